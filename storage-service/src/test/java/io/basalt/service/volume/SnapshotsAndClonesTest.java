package io.basalt.service.volume;

import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.SnapshotNotFoundException;
import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.VolumeNotFoundException;
import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.NodeStats;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.SpaceUsage;
import io.basalt.bridge.api.Volume;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static io.basalt.service.volume.ManagerHarness.MIB;
import static io.basalt.service.volume.ManagerHarness.OTHER_PROJECT;
import static io.basalt.service.volume.ManagerHarness.PROJECT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Snapshots, volumes made from snapshots or volumes, reverts, space accounting and node statistics. */
class SnapshotsAndClonesTest extends ManagerTest {
    private static final int BLOCK = 4096;

    @Test
    void snapshotsAreCreatedListedFoundAndDeleted() throws IOException {
        Volume volume = node.create("v", 2 * MIB);
        Instant before = Instant.now();
        Snapshot first = node.snapshot("first", volume);
        Snapshot second = node.snapshot("second", volume);

        assertEquals("first", first.name());
        assertEquals(PROJECT, first.project());
        assertEquals(volume.id(), first.sourceVolumeId());
        assertEquals(2 * MIB, first.sizeBytes());
        assertNotNull(first.createdAt());
        assertTrue(!first.createdAt().isBefore(before.minus(Duration.ofSeconds(1))), first.createdAt().toString());
        assertEquals(SpaceUsage.EMPTY, first.space());
        assertEquals(List.of(first, second), manager.listSnapshots(PROJECT, null), "oldest first");
        assertEquals(List.of(second), manager.listSnapshots(PROJECT, "second"));
        assertEquals(List.of(), manager.listSnapshots(PROJECT, "third"));
        assertEquals(first, manager.findSnapshot(PROJECT, first.id()).orElseThrow());
        assertEquals(3, manager.engine().mapIds().size(), "a snapshot is an engine map");
        assertEquals(1, manager.list(PROJECT, null).size(), "and not a volume");
        assertEquals(1, manager.subsystem().namespaces().size());

        manager.deleteSnapshot(PROJECT, first.id());
        assertTrue(manager.findSnapshot(PROJECT, first.id()).isEmpty());
        assertEquals(List.of(second), manager.listSnapshots(PROJECT, null));
        assertEquals(2, manager.engine().mapIds().size());
        assertThrows(SnapshotNotFoundException.class, () -> manager.deleteSnapshot(PROJECT, first.id()));

        restart();
        assertEquals(List.of(second), manager.listSnapshots(PROJECT, null));
    }

    @Test
    void snapshotNamesAreUniquePerProjectAndSourcesMustExist() {
        Volume volume = node.create("v", MIB);
        Volume theirs = manager.create(OTHER_PROJECT, new CreateVolumeRequest("w", MIB, List.of()));
        node.snapshot("s", volume);

        VolumeConflictException e = assertThrows(VolumeConflictException.class, () -> node.snapshot("s", volume));
        assertEquals("name", e.field());
        Snapshot sameName = manager.createSnapshot(OTHER_PROJECT, new CreateSnapshotRequest("s", theirs.id()));
        assertEquals(OTHER_PROJECT, sameName.project());
        assertEquals("s", node.create("s", MIB).name(), "volumes and snapshots have separate names");

        assertThrows(VolumeNotFoundException.class,
                () -> manager.createSnapshot(PROJECT, new CreateSnapshotRequest("t", "nope")));
        assertThrows(VolumeNotFoundException.class,
                () -> manager.createSnapshot(PROJECT, new CreateSnapshotRequest("t", theirs.id())));
        assertEquals(1, manager.listSnapshots(PROJECT, null).size());
        assertEquals(1, manager.listSnapshots(OTHER_PROJECT, null).size());
    }

    @Test
    void anotherProjectsSnapshotsAreInvisible() {
        Volume theirs = manager.create(OTHER_PROJECT, new CreateVolumeRequest("w", MIB, List.of()));
        Snapshot snapshot = manager.createSnapshot(OTHER_PROJECT, new CreateSnapshotRequest("s", theirs.id()));
        Volume mine = node.create("v", MIB);

        assertEquals(List.of(), manager.listSnapshots(PROJECT, null));
        assertTrue(manager.findSnapshot(PROJECT, snapshot.id()).isEmpty());
        assertThrows(SnapshotNotFoundException.class, () -> manager.deleteSnapshot(PROJECT, snapshot.id()));
        assertThrows(SnapshotNotFoundException.class, () -> node.fromSnapshot("x", snapshot));
        assertThrows(SnapshotNotFoundException.class, () -> manager.revert(PROJECT, mine.id(), snapshot.id()));
        assertThrows(VolumeNotFoundException.class, () -> manager.revert(PROJECT, theirs.id(), snapshot.id()));
        assertEquals(List.of(snapshot), manager.listSnapshots(OTHER_PROJECT, null), "unchanged");
    }

    @Test
    void volumesFromASnapshotOrAVolumeHoldTheSourcesDataAndNotLaterWrites() throws Exception {
        Volume source = node.create("source", 2 * MIB);
        byte[] before = node.data(8, 1);
        node.write(source, 100, before);
        Snapshot snapshot = node.snapshot("s", source);
        Volume clone = node.cloneOf("clone", source);
        byte[] after = node.data(8, 2);
        node.write(source, 100, after);
        node.write(source, 300, node.data(1, 3));
        Volume fromSnapshot = node.fromSnapshot("restored", snapshot);

        assertEquals(source.id(), clone.sourceVolumeId());
        assertEquals(snapshot.id(), fromSnapshot.sourceSnapshotId());
        assertEquals(2 * MIB, clone.sizeBytes(), "size 0 means the source's");
        assertEquals(2 * MIB, fromSnapshot.sizeBytes());
        assertArrayEquals(after, node.read(source, 100, 8));
        assertArrayEquals(before, node.read(clone, 100, 8));
        assertArrayEquals(before, node.read(fromSnapshot, 100, 8));
        assertArrayEquals(new byte[BLOCK], node.read(clone, 300, 1));
        assertArrayEquals(new byte[BLOCK], node.read(fromSnapshot, 300, 1));

        byte[] cloneOwn = node.data(1, 4);
        node.write(clone, 100, cloneOwn);
        assertArrayEquals(after, node.read(source, 100, 8), "clone writes stay in the clone");
        assertArrayEquals(before, node.read(fromSnapshot, 100, 8));
        Volume second = node.fromSnapshot("second", snapshot);
        assertArrayEquals(before, node.read(second, 100, 8), "the snapshot itself never changes");

        restart();
        assertArrayEquals(after, node.read(source, 100, 8));
        assertArrayEquals(cloneOwn, node.read(clone, 100, 1));
        assertArrayEquals(before, node.read(fromSnapshot, 100, 8));
        Volume reopened = manager.find(PROJECT, clone.id()).orElseThrow();
        assertEquals(source.id(), reopened.sourceVolumeId());
        assertEquals(snapshot.id(), manager.find(PROJECT, fromSnapshot.id()).orElseThrow().sourceSnapshotId());
    }

    @Test
    void aNewVolumeMayBeLargerThanItsSourceButNotSmaller() throws Exception {
        Volume source = node.create("source", 2 * MIB);
        byte[] data = node.data(1, 9);
        node.write(source, 511, data);
        Snapshot snapshot = node.snapshot("s", source);

        Volume bigger = manager.create(PROJECT, new CreateVolumeRequest("bigger", 4 * MIB, List.of(), null, null,
                snapshot.id(), null));
        assertEquals(4 * MIB, bigger.sizeBytes());
        assertEquals(4 * MIB / BLOCK, node.device(bigger).blockCount());
        assertArrayEquals(data, node.read(bigger, 511, 1));
        assertArrayEquals(new byte[BLOCK], node.read(bigger, 1023, 1));

        InvalidVolumeRequestException e = assertThrows(InvalidVolumeRequestException.class,
                () -> manager.create(PROJECT, new CreateVolumeRequest("smaller", MIB, List.of(), null, null, null,
                        source.id())));
        assertEquals("sizeBytes", e.field());
        e = assertThrows(InvalidVolumeRequestException.class,
                () -> manager.create(PROJECT, new CreateVolumeRequest("both", 0, List.of(), null, null, snapshot.id(),
                        source.id())));
        assertEquals("sourceVolumeId", e.field());
        assertThrows(SnapshotNotFoundException.class, () -> manager.create(PROJECT,
                new CreateVolumeRequest("x", 0, List.of(), null, null, "nope", null)));
        assertEquals(2, manager.list(PROJECT, null).size());
    }

    @Test
    void revertRestoresTheSnapshotsData() throws Exception {
        Volume volume = node.create("v", 2 * MIB);
        byte[] original = node.data(4, 1);
        node.write(volume, 0, original);
        Snapshot snapshot = node.snapshot("s", volume);
        node.write(volume, 0, node.data(4, 2));
        node.write(volume, 200, node.data(1, 3));

        Volume reverted = manager.revert(PROJECT, volume.id(), snapshot.id());

        assertEquals(volume.id(), reverted.id());
        assertEquals(2 * MIB, reverted.sizeBytes());
        assertArrayEquals(original, node.read(volume, 0, 4));
        assertArrayEquals(new byte[BLOCK], node.read(volume, 200, 1), "written after the snapshot: gone");
        node.write(volume, 1, node.data(1, 5));
        Volume check = node.fromSnapshot("check", snapshot);
        assertArrayEquals(original, node.read(check, 0, 4), "the snapshot is unchanged by revert and later writes");

        restart();
        assertArrayEquals(node.data(1, 5), node.read(volume, 1, 1));
        assertArrayEquals(java.util.Arrays.copyOfRange(original, 2 * BLOCK, 4 * BLOCK), node.read(volume, 2, 2));
        assertArrayEquals(new byte[BLOCK], node.read(volume, 200, 1));
    }

    @Test
    void revertToASmallerSnapshotKeepsTheSizeAndZeroesTheTail() throws Exception {
        Volume volume = node.create("v", MIB);
        byte[] head = node.data(1, 1);
        node.write(volume, 0, head);
        Snapshot snapshot = node.snapshot("s", volume);
        manager.extend(PROJECT, volume.id(), 2 * MIB);
        node.write(volume, 300, node.data(1, 2));

        Volume reverted = manager.revert(PROJECT, volume.id(), snapshot.id());

        assertEquals(2 * MIB, reverted.sizeBytes());
        assertEquals(2 * MIB / BLOCK, node.device(volume).blockCount());
        assertArrayEquals(head, node.read(volume, 0, 1));
        assertArrayEquals(new byte[BLOCK], node.read(volume, 300, 1));
    }

    @Test
    void revertNeedsASnapshotOfThatVolume() throws Exception {
        Volume volume = node.create("v", MIB);
        Volume other = node.create("other", MIB);
        Snapshot ofOther = node.snapshot("s", other);
        byte[] data = node.data(1, 1);
        node.write(volume, 0, data);

        InvalidVolumeRequestException e = assertThrows(InvalidVolumeRequestException.class,
                () -> manager.revert(PROJECT, volume.id(), ofOther.id()));
        assertEquals("snapshotId", e.field());
        assertThrows(SnapshotNotFoundException.class, () -> manager.revert(PROJECT, volume.id(), "nope"));
        assertThrows(VolumeNotFoundException.class, () -> manager.revert(PROJECT, "nope", ofOther.id()));
        assertArrayEquals(data, node.read(volume, 0, 1), "nothing changed");
    }

    @Test
    void deletingAVolumeKeepsItsSnapshotsUsable() throws Exception {
        Volume volume = node.create("v", MIB);
        byte[] data = node.data(3, 1);
        node.write(volume, 10, data);
        Snapshot snapshot = node.snapshot("s", volume);

        manager.delete(PROJECT, volume.id());
        assertEquals(List.of(snapshot.id()), manager.listSnapshots(PROJECT, null).stream().map(Snapshot::id).toList());
        assertEquals(volume.id(), manager.findSnapshot(PROJECT, snapshot.id()).orElseThrow().sourceVolumeId());
        assertEquals(3L * BLOCK, manager.findSnapshot(PROJECT, snapshot.id()).orElseThrow().space().mappedBytes());

        restart();
        Volume restored = node.fromSnapshot("restored", snapshot);
        assertArrayEquals(data, node.read(restored, 10, 3));
    }

    @Test
    void deletingASnapshotKeepsTheVolumesMadeFromIt() throws Exception {
        Volume volume = node.create("v", MIB);
        byte[] data = node.data(2, 1);
        node.write(volume, 0, data);
        Snapshot snapshot = node.snapshot("s", volume);
        Volume restored = node.fromSnapshot("restored", snapshot);
        node.write(volume, 0, node.data(2, 2));

        manager.deleteSnapshot(PROJECT, snapshot.id());

        assertArrayEquals(data, node.read(restored, 0, 2));
        restart();
        assertArrayEquals(data, node.read(restored, 0, 2));
        assertEquals(snapshot.id(), manager.find(PROJECT, restored.id()).orElseThrow().sourceSnapshotId());
    }

    @Test
    void aSnapshotThatCannotBeRecordedLeavesNothingBehind() throws IOException {
        Volume volume = node.create("v", MIB);
        Path blocker = dataDir.resolve(VolumeRegistry.FILE_NAME + ".tmp");
        Files.createDirectories(blocker.resolve("x"));
        try {
            assertThrows(UncheckedIOException.class, () -> node.snapshot("s", volume));
            assertThrows(UncheckedIOException.class, () -> node.cloneOf("c", volume));
        } finally {
            Files.delete(blocker.resolve("x"));
            Files.delete(blocker);
        }
        assertEquals(List.of(), manager.listSnapshots(PROJECT, null));
        assertEquals(1, manager.list(PROJECT, null).size());
        assertEquals(1, manager.engine().mapIds().size(), "no engine map left behind");
        assertEquals("s", node.snapshot("s", volume).name());
    }

    @Test
    void spaceUsageTellsExclusiveFromShared() throws Exception {
        Volume volume = node.create("v", 2 * MIB);
        node.write(volume, 0, node.data(4, 1));
        SpaceUsage written = space(volume);
        assertEquals(new SpaceUsage(4 * BLOCK, 4 * BLOCK, 4 * BLOCK, 0), written, "uncompressed, all its own");

        Snapshot snapshot = node.snapshot("s", volume);
        assertEquals(new SpaceUsage(4 * BLOCK, 4 * BLOCK, 0, 4 * BLOCK), space(volume), "all shared with the snapshot");
        assertEquals(new SpaceUsage(4 * BLOCK, 4 * BLOCK, 0, 4 * BLOCK),
                manager.findSnapshot(PROJECT, snapshot.id()).orElseThrow().space());

        node.write(volume, 0, node.data(1, 2));
        node.write(volume, 100, node.data(1, 3));
        SpaceUsage diverged = space(volume);
        assertEquals(5L * BLOCK, diverged.mappedBytes());
        assertEquals(5L * BLOCK, diverged.storedBytes());
        assertEquals(2L * BLOCK, diverged.exclusiveBytes(), "the two blocks written after the snapshot: " + diverged);
        assertEquals(3L * BLOCK, diverged.sharedBytes(), diverged.toString());
        SpaceUsage ofSnapshot = manager.findSnapshot(PROJECT, snapshot.id()).orElseThrow().space();
        assertEquals(4L * BLOCK, ofSnapshot.mappedBytes());
        assertEquals(1L * BLOCK, ofSnapshot.exclusiveBytes(), "the overwritten block: " + ofSnapshot);
        assertEquals(ofSnapshot.storedBytes(), ofSnapshot.exclusiveBytes() + ofSnapshot.sharedBytes());

        manager.deleteSnapshot(PROJECT, snapshot.id());
        assertEquals(new SpaceUsage(5 * BLOCK, 5 * BLOCK, 5 * BLOCK, 0), space(volume), "all its own again");
    }

    @Test
    void compressedVolumesStoreLessThanTheyMap() throws Exception {
        Volume packed = manager.create(PROJECT, new CreateVolumeRequest("packed", 2 * MIB, List.of(), true, null,
                null, null));
        Volume plain = node.create("plain", 2 * MIB);
        byte[] text = node.compressible(16);
        node.write(packed, 0, text);
        node.write(plain, 0, text);

        SpaceUsage packedSpace = space(packed);
        assertEquals(16L * BLOCK, packedSpace.mappedBytes());
        assertTrue(packedSpace.storedBytes() > 0 && packedSpace.storedBytes() < 16L * BLOCK / 4, packedSpace.toString());
        assertEquals(packedSpace.storedBytes(), packedSpace.exclusiveBytes());
        assertEquals(16L * BLOCK, space(plain).storedBytes());
        assertArrayEquals(text, node.read(packed, 0, 16), "reads decompress");
        assertTrue(manager.compressionRatio(packed.id()) > 4.0, String.valueOf(manager.compressionRatio(packed.id())));
        assertEquals(1.0, manager.compressionRatio(plain.id()));
        assertEquals(1.0, manager.compressionRatio("nope"));

        restart();
        assertArrayEquals(text, node.read(packed, 0, 16));
        assertEquals(packedSpace, space(packed));
    }

    @Test
    void statsAddUpTheNode() throws Exception {
        NodeStats empty = manager.stats();
        long capacity = manager.engine().capacityBytes();
        assertEquals(capacity, empty.totalBytes());
        assertEquals(0, empty.usedBytes());
        assertEquals(capacity, empty.freeBytes());
        assertEquals(0, empty.provisionedBytes());
        assertEquals(10.0, empty.maxOversubscriptionRatio());
        assertEquals(1.0, empty.compressionRatio());
        assertEquals(0, empty.volumes());
        assertEquals(0, empty.snapshots());

        Volume a = node.create("a", 2 * MIB);
        Volume b = manager.create(OTHER_PROJECT, new CreateVolumeRequest("b", 3 * MIB, List.of(), true, null, null,
                null));
        node.write(a, 0, node.data(8, 1));
        node.write(b, 0, node.compressible(8));
        node.snapshot("s", a);

        NodeStats stats = manager.stats();
        assertEquals(5 * MIB, stats.provisionedBytes(), "every project's volumes");
        assertEquals(2, stats.volumes());
        assertEquals(1, stats.snapshots());
        long stored = space(a).storedBytes() + manager.find(OTHER_PROJECT, b.id()).orElseThrow().space().storedBytes();
        assertTrue(stats.usedBytes() >= stored, stats + " vs stored " + stored);
        assertEquals(capacity - stats.usedBytes(), stats.freeBytes());
        assertTrue(stats.compressionRatio() > 1.0, stats.toString());
        assertTrue(stats.writeAmplification() > 0, "compression may take it below 1: " + stats);

        manager.delete(PROJECT, a.id());
        NodeStats after = manager.stats();
        assertEquals(3 * MIB, after.provisionedBytes());
        assertEquals(1, after.volumes());
        assertEquals(1, after.snapshots(), "the snapshot outlives its volume");
    }

    private SpaceUsage space(Volume volume) {
        return manager.find(PROJECT, volume.id()).orElseThrow().space();
    }

    private void restart() throws IOException {
        node.restart();
        manager = node.manager;
    }
}
