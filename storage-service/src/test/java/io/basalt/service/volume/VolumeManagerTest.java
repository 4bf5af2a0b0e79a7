package io.basalt.service.volume;

import io.basalt.bridge.InsufficientCapacityException;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.VolumeNotFoundException;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Qos;
import io.basalt.bridge.api.UpdateVolumeRequest;
import io.basalt.service.dataplane.QosLimits;
import io.basalt.service.dataplane.VolumeDevice;
import io.basalt.bridge.api.SpaceUsage;
import io.basalt.bridge.api.Volume;
import io.basalt.nvmetcp.nvmet.IoObserver;
import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.Subsystem;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.basalt.service.volume.ManagerHarness.MIB;
import static io.basalt.service.volume.ManagerHarness.OTHER_PROJECT;
import static io.basalt.service.volume.ManagerHarness.PORTALS;
import static io.basalt.service.volume.ManagerHarness.PROJECT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Volumes: creation, naming, projects, sizes, hosts, capacity and what survives a restart. */
class VolumeManagerTest extends ManagerTest {
    private static final String HOST_A = "nqn.2014-08.org.nvmexpress:uuid:8b3e5c2a-1f4d-4e6a-9b7c-0d2e4f6a8b1c";
    private static final String HOST_B = "nqn.2014-08.com.example:host-b";

    @Test
    void aNewNodeGetsOneSubsystemNqnThatSurvivesRestarts() throws IOException {
        String nqn = manager.subsystem().nqn();
        assertTrue(nqn.startsWith("nqn.2026-11.io.basalt:subsystem:"), nqn);
        UUID.fromString(nqn.substring("nqn.2026-11.io.basalt:subsystem:".length()));
        assertEquals(20, manager.subsystem().serial().length());

        restart();
        assertEquals(nqn, manager.subsystem().nqn());
    }

    @Test
    void createExposesAnEngineVolumeAsANamespace() {
        Volume volume = manager.create(PROJECT, new CreateVolumeRequest("db", 64 * MIB, List.of(HOST_A)));

        assertEquals("db", volume.name());
        assertEquals(PROJECT, volume.project());
        assertEquals(64 * MIB, volume.sizeBytes());
        assertEquals(1, volume.replicas());
        assertFalse(volume.compression(), "the node's default");
        assertEquals(manager.subsystem().nqn(), volume.nqn());
        assertEquals(1, volume.nsid());
        assertEquals(32, volume.nguid().length());
        assertEquals(List.of(HOST_A), volume.hosts());
        assertEquals(PORTALS, volume.portals());
        assertNull(volume.sourceSnapshotId());
        assertNull(volume.sourceVolumeId());
        assertEquals(SpaceUsage.EMPTY, volume.space(), "thin: nothing written, nothing used");

        Namespace ns = manager.subsystem().namespace(1);
        assertNotNull(ns);
        assertEquals(volume.uuid(), ns.uuid());
        assertArrayEquals(HexFormat.of().parseHex(volume.nguid()), ns.nguid());
        assertEquals(Set.of(HOST_A), ns.allowedHosts());
        assertEquals(4096, ns.device().blockSize(), "the default block size");
        assertEquals(64 * MIB / 4096, ns.device().blockCount());
        assertEquals(1, manager.engine().mapIds().size());
        assertEquals(List.of(volume), manager.list(PROJECT, null));
        assertEquals(volume, manager.find(PROJECT, volume.id()).orElseThrow());
    }

    /** A volume that requires authentication is shown only to the hosts of its ACL that have a secret. */
    @Test
    void volumeRequiringAuthenticationIsHiddenFromHostsWithoutSecret() throws IOException {
        Set<String> withSecrets = new HashSet<>();
        manager.authenticatingHosts(withSecrets::contains);
        Volume locked = manager.create(PROJECT, new CreateVolumeRequest("locked", MIB, List.of(HOST_A, HOST_B), null,
                null, null, null, true));
        Volume open = manager.create(PROJECT, new CreateVolumeRequest("open", MIB, List.of(HOST_A, HOST_B)));
        assertTrue(locked.requireAuthentication());
        assertEquals(List.of(HOST_A, HOST_B), locked.hosts(), "the API shows the ACL as given");
        assertEquals(Set.of(), manager.subsystem().namespace(locked.nsid()).allowedHosts());
        assertEquals(Set.of(HOST_A, HOST_B), manager.subsystem().namespace(open.nsid()).allowedHosts());

        withSecrets.add(HOST_A);
        manager.authenticatingHosts(withSecrets::contains);
        assertEquals(Set.of(HOST_A), manager.subsystem().namespace(locked.nsid()).allowedHosts());

        restart();
        manager.authenticatingHosts(withSecrets::contains);
        assertTrue(manager.find(PROJECT, locked.id()).orElseThrow().requireAuthentication(), "the flag survives a restart");
        assertEquals(Set.of(HOST_A), manager.subsystem().namespace(locked.nsid()).allowedHosts());
    }

    @Test
    void qosLimitsReachTheDataPlaneChangeInPlaceAndSurviveARestart() throws IOException {
        Qos given = new Qos(0, 300, 0, 0, 0, 8 << 20, 2);
        Volume limited = manager.create(PROJECT, new CreateVolumeRequest("limited", MIB, List.of(), null, null, null,
                null, null, given));
        Volume plain = node.create("plain", MIB);
        assertEquals(given, limited.qos());
        assertEquals(Qos.UNLIMITED, plain.qos());
        assertEquals(new QosLimits(0, 300, 0, 0, 0, 8 << 20, 2), device(limited).limits());
        assertEquals(QosLimits.UNLIMITED, device(plain).limits());

        Qos changed = new Qos(1000, 0, 0, 0, 0, 0, 0);
        assertEquals(changed, manager.setQos(PROJECT, limited.id(), changed).qos());
        assertEquals(1000, device(limited).limits().totalIops(), "applied in place, same namespace");
        assertThrows(VolumeNotFoundException.class, () -> manager.setQos("other", limited.id(), changed));

        restart();
        assertEquals(changed, manager.find(PROJECT, limited.id()).orElseThrow().qos(), "kept in the registry");
        assertEquals(1000, device(limited).limits().totalIops(), "applied again at start");
        manager.setQos(PROJECT, limited.id(), Qos.UNLIMITED);
        assertEquals(QosLimits.UNLIMITED, device(limited).limits());
    }

    private VolumeDevice device(Volume volume) {
        return (VolumeDevice) manager.subsystem().namespace(volume.nsid()).device();
    }

    @Test
    void compressionFollowsTheRequestOrTheNodeDefault() throws IOException {
        Volume plain = node.create("plain", MIB);
        Volume packed = manager.create(PROJECT, new CreateVolumeRequest("packed", MIB, List.of(), true, null, null,
                null));
        assertFalse(plain.compression());
        assertTrue(packed.compression());

        node.compression = true;
        restart();
        assertFalse(manager.find(PROJECT, plain.id()).orElseThrow().compression(), "existing volumes keep theirs");
        assertTrue(node.create("now-default", MIB).compression());
        assertFalse(manager.create(PROJECT, new CreateVolumeRequest("off", MIB, List.of(), false, null, null, null))
                .compression());
    }

    @Test
    void updateRenamesAndSwitchesTheEnginesCompressionAndBothSurviveARestart() throws IOException {
        Volume volume = node.create("v", MIB);
        node.create("taken", MIB);

        Volume updated = manager.update(PROJECT, volume.id(), new UpdateVolumeRequest("w", true));
        assertEquals("w", updated.name());
        assertTrue(updated.compression());
        assertTrue(engineCompresses(), "the engine compresses the volume's next writes");
        assertEquals(List.of(updated.id()), manager.list(PROJECT, "w").stream().map(Volume::id).toList());
        assertEquals(List.of(), manager.list(PROJECT, "v"), "the old name is free");
        VolumeConflictException conflict = assertThrows(VolumeConflictException.class,
                () -> manager.update(PROJECT, volume.id(), new UpdateVolumeRequest("taken", false)));
        assertEquals("name", conflict.field());
        assertThrows(VolumeNotFoundException.class,
                () -> manager.update(OTHER_PROJECT, volume.id(), new UpdateVolumeRequest(null, false)));

        restart();
        Volume restarted = manager.find(PROJECT, volume.id()).orElseThrow();
        assertEquals("w", restarted.name());
        assertTrue(restarted.compression());
        assertTrue(engineCompresses());

        manager.update(PROJECT, volume.id(), new UpdateVolumeRequest(null, false));
        assertFalse(engineCompresses());
        assertEquals("w", manager.find(PROJECT, volume.id()).orElseThrow().name(), "a name not given is kept");
    }

    /**
     * A change recorded in the registry but not made in the engine (a crash between the two) is completed at
     * start. Shown failing without the completion in VolumeManager.restore (the engine kept compressing off).
     */
    @Test
    void aCompressionChangeTheEngineMissedIsCompletedAtStart() throws IOException {
        Volume volume = node.create("v", MIB);
        node.close();
        node.replaceInRegistry("\"compression\" : false", "\"compression\" : true");
        manager = node.open();
        assertTrue(manager.find(PROJECT, volume.id()).orElseThrow().compression());
        assertTrue(engineCompresses());
    }

    /** Whether the engine compresses the next writes of the first volume the test created (map ids grow). */
    private boolean engineCompresses() {
        return manager.engine().compressed(manager.engine().mapIds().stream().min(Integer::compare).orElseThrow());
    }

    @Test
    void listFiltersByNameAndOrdersByNsid() {
        Volume b = node.create("b", MIB);
        Volume a = node.create("a", MIB);
        Volume c = node.create("c", MIB);

        assertEquals(List.of(b, a, c), manager.list(PROJECT, null));
        assertEquals(List.of(a), manager.list(PROJECT, "a"));
        assertEquals(List.of(), manager.list(PROJECT, "nope"));
    }

    @Test
    void anotherProjectsVolumesAreInvisible() {
        Volume mine = node.create("v", MIB);
        Volume theirs = manager.create(OTHER_PROJECT, new CreateVolumeRequest("w", MIB, List.of()));

        assertEquals(List.of(mine), manager.list(PROJECT, null));
        assertEquals(List.of(theirs), manager.list(OTHER_PROJECT, null));
        assertEquals(List.of(), manager.list(PROJECT, "w"));
        assertEquals(List.of(), manager.list("nobody", null));
        assertTrue(manager.find(PROJECT, theirs.id()).isEmpty());
        assertTrue(manager.find(OTHER_PROJECT, mine.id()).isEmpty());
        assertEquals(OTHER_PROJECT, theirs.project());

        String id = theirs.id();
        assertThrows(VolumeNotFoundException.class, () -> manager.extend(PROJECT, id, 2 * MIB));
        assertThrows(VolumeNotFoundException.class, () -> manager.setHosts(PROJECT, id, List.of(HOST_A)));
        assertThrows(VolumeNotFoundException.class, () -> manager.addHost(PROJECT, id, HOST_A));
        assertThrows(VolumeNotFoundException.class, () -> manager.removeHost(PROJECT, id, HOST_A));
        assertThrows(VolumeNotFoundException.class, () -> manager.delete(PROJECT, id));
        assertThrows(VolumeNotFoundException.class, () -> manager.create(PROJECT,
                new CreateVolumeRequest("clone", 0, List.of(), null, null, null, id)));
        assertEquals(theirs, manager.find(OTHER_PROJECT, id).orElseThrow(), "unchanged");
        assertEquals(2, manager.list(PROJECT, null).size() + manager.list(OTHER_PROJECT, null).size());
    }

    @Test
    void namesAreUniqueWithinAProject() {
        Volume first = node.create("v", MIB);
        VolumeConflictException e = assertThrows(VolumeConflictException.class, () -> node.create("v", 2 * MIB));
        assertEquals("name", e.field());
        assertEquals(List.of(first), manager.list(PROJECT, null));

        Volume other = manager.create(OTHER_PROJECT, new CreateVolumeRequest("v", MIB, List.of()));
        assertEquals("v", other.name());
        assertFalse(other.id().equals(first.id()));
        assertEquals(2, manager.subsystem().namespaces().size());
    }

    @Test
    void onlyOneReplicaIsServed() {
        for (int replicas : new int[]{0, 2, 3}) {
            InvalidVolumeRequestException e = assertThrows(InvalidVolumeRequestException.class,
                    () -> manager.create(PROJECT, new CreateVolumeRequest("v", MIB, List.of(), null, replicas, null,
                            null)));
            assertEquals("replicas", e.field());
        }
        assertNothingCreated();
        Volume one = manager.create(PROJECT, new CreateVolumeRequest("v", MIB, List.of(), null, 1, null, null));
        assertEquals(1, one.replicas());
    }

    @Test
    void sizesMustBeWholeBlocksOfThisNode() {
        InvalidVolumeRequestException e = assertThrows(InvalidVolumeRequestException.class,
                () -> node.create("v", 4096 + 512));
        assertEquals("sizeBytes", e.field());
        assertTrue(e.getMessage().contains("4096"), e.getMessage());

        e = assertThrows(InvalidVolumeRequestException.class, () -> node.create("v", 0));
        assertEquals("sizeBytes", e.field(), "0 only with a source");
        assertEquals("sizeBytes", assertThrows(InvalidVolumeRequestException.class,
                () -> node.create("v", -4096)).field());
        assertNothingCreated();
    }

    @Test
    void volumesKeepTheirBlockSizeWhenTheSettingChanges() throws IOException {
        node.blockSize = 512;
        restart();
        Volume small = node.create("small", MIB + 512);
        assertEquals(512, node.device(small).blockSize());
        assertEquals((MIB + 512) / 512, node.device(small).blockCount());

        node.blockSize = 4096;
        restart();
        assertEquals(512, node.device(small).blockSize());
        assertEquals(MIB + 512, manager.find(PROJECT, small.id()).orElseThrow().sizeBytes());
        Volume big = node.create("big", MIB);
        assertEquals(4096, node.device(big).blockSize());
        Volume clone = node.cloneOf("clone", small);
        assertEquals(512, node.device(clone).blockSize(), "a clone has its source's block size");
        assertEquals(MIB + 512, clone.sizeBytes());
    }

    @Test
    void extendGrowsTheNamespaceAndTellsItsHosts() throws Exception {
        Volume volume = manager.create(PROJECT, new CreateVolumeRequest("v", MIB, List.of(HOST_A)));
        byte[] data = node.data(2, 7);
        node.write(volume, 254, data);
        RecordingListener hostA = new RecordingListener(HOST_A);
        RecordingListener hostB = new RecordingListener(HOST_B);
        manager.subsystem().register(hostA);
        manager.subsystem().register(hostB);

        Volume bigger = manager.extend(PROJECT, volume.id(), 3 * MIB);

        assertEquals(3 * MIB, bigger.sizeBytes());
        assertEquals(3 * MIB / 4096, node.device(volume).blockCount());
        assertEquals(List.of(volume.nsid()), hostA.changed, "hosts that see it learn the new size");
        assertEquals(List.of(), hostB.changed);
        assertArrayEquals(data, node.read(volume, 254, 2), "data is kept");
        assertArrayEquals(new byte[4096 * 10], node.read(volume, 256, 10), "the new space reads as zeros");
        byte[] tail = node.data(1, 8);
        node.write(volume, 3 * 256 - 1, tail);

        restart();
        assertEquals(3 * MIB, manager.find(PROJECT, volume.id()).orElseThrow().sizeBytes());
        assertEquals(3 * MIB / 4096, node.device(volume).blockCount());
        assertArrayEquals(tail, node.read(volume, 3 * 256 - 1, 1));
    }

    @Test
    void extendToTheSameSizeChangesNothingAndShrinkingIsRefused() throws IOException {
        Volume volume = node.create("v", 2 * MIB);
        byte[] registry = Files.readAllBytes(node.registry());
        assertEquals(volume, manager.extend(PROJECT, volume.id(), 2 * MIB));
        assertArrayEquals(registry, Files.readAllBytes(node.registry()), "a no-op writes nothing");

        InvalidVolumeRequestException e = assertThrows(InvalidVolumeRequestException.class,
                () -> manager.extend(PROJECT, volume.id(), MIB));
        assertEquals("sizeBytes", e.field());
        e = assertThrows(InvalidVolumeRequestException.class, () -> manager.extend(PROJECT, volume.id(), 2 * MIB + 512));
        assertEquals("sizeBytes", e.field());
        assertThrows(VolumeNotFoundException.class, () -> manager.extend(PROJECT, "nope", 4 * MIB));
        assertEquals(2 * MIB, manager.find(PROJECT, volume.id()).orElseThrow().sizeBytes());
        assertEquals(2 * MIB / 4096, node.device(volume).blockCount());
    }

    @Test
    void anExtendThatCannotBeRecordedChangesNothing() throws IOException {
        Volume volume = node.create("v", MIB);
        whileRegistryWritesFail(() -> {
            assertThrows(UncheckedIOException.class, () -> manager.extend(PROJECT, volume.id(), 2 * MIB));
        });
        assertEquals(MIB, manager.find(PROJECT, volume.id()).orElseThrow().sizeBytes(), "the registry is unchanged");
        assertEquals(MIB / 4096, node.device(volume).blockCount(), "hosts see the old size");

        restart();
        assertEquals(MIB, manager.find(PROJECT, volume.id()).orElseThrow().sizeBytes());
        assertEquals(MIB / 4096, node.device(volume).blockCount());
    }

    @Test
    void addAndRemoveHostAreIdempotentAndPersist() throws IOException {
        Volume volume = node.create("v", MIB);
        RecordingListener hostA = new RecordingListener(HOST_A);
        manager.subsystem().register(hostA);

        assertEquals(List.of(HOST_A), manager.addHost(PROJECT, volume.id(), HOST_A).hosts());
        assertEquals(List.of(HOST_A), manager.addHost(PROJECT, volume.id(), HOST_A).hosts(), "twice is fine");
        assertEquals(List.of(HOST_A, HOST_B), manager.addHost(PROJECT, volume.id(), HOST_B).hosts());
        assertEquals(Set.of(HOST_A, HOST_B), manager.subsystem().namespace(volume.nsid()).allowedHosts());
        assertEquals(List.of(volume.nsid()), hostA.changed, "told once, when it gained the volume");

        restart();
        assertEquals(List.of(HOST_A, HOST_B), manager.find(PROJECT, volume.id()).orElseThrow().hosts());
        assertEquals(List.of(HOST_B), manager.removeHost(PROJECT, volume.id(), HOST_A).hosts());
        assertEquals(List.of(HOST_B), manager.removeHost(PROJECT, volume.id(), HOST_A).hosts(), "twice is fine");
        assertEquals(Set.of(HOST_B), manager.subsystem().namespace(volume.nsid()).allowedHosts());
        restart();
        assertEquals(List.of(HOST_B), manager.find(PROJECT, volume.id()).orElseThrow().hosts());
        assertThrows(VolumeNotFoundException.class, () -> manager.addHost(PROJECT, "nope", HOST_A));
        assertThrows(VolumeNotFoundException.class, () -> manager.removeHost(PROJECT, "nope", HOST_A));
    }

    /** One host more than a volume allows is refused and changes nothing; one already allowed is fine. */
    @Test
    void aVolumeAllowsAtMostMaxHostsHosts() {
        Volume volume = node.create("v", MIB);
        List<String> most = new ArrayList<>();
        for (int i = 0; i < VolumeService.MAX_HOSTS; i++) {
            most.add("nqn.2014-08.org.example:host-" + i);
            manager.addHost(PROJECT, volume.id(), most.get(i));
        }
        assertThrows(VolumeConflictException.class, () -> manager.addHost(PROJECT, volume.id(), HOST_A));
        assertEquals(most, manager.addHost(PROJECT, volume.id(), most.get(0)).hosts());
        assertEquals(Set.copyOf(most), manager.subsystem().namespace(volume.nsid()).allowedHosts());
    }

    @Test
    void setHostsReplacesTheAclTellsHostsAndPersists() throws IOException {
        Volume volume = manager.create(PROJECT, new CreateVolumeRequest("v", MIB, List.of(HOST_A)));
        RecordingListener hostA = new RecordingListener(HOST_A);
        RecordingListener hostB = new RecordingListener(HOST_B);
        manager.subsystem().register(hostA);
        manager.subsystem().register(hostB);

        Volume updated = manager.setHosts(PROJECT, volume.id(), List.of(HOST_B, HOST_B));

        assertEquals(List.of(HOST_B), updated.hosts(), "duplicates collapse");
        assertEquals(Set.of(HOST_B), manager.subsystem().namespace(volume.nsid()).allowedHosts());
        assertEquals(List.of(volume.nsid()), hostA.changed, "the host that lost the volume is told");
        assertEquals(List.of(volume.nsid()), hostB.changed, "the host that gained it is told");
        restart();
        assertEquals(List.of(HOST_B), manager.find(PROJECT, volume.id()).orElseThrow().hosts());
    }

    @Test
    void setHostsThatCannotBeRecordedChangesNothing() throws IOException {
        Volume volume = manager.create(PROJECT, new CreateVolumeRequest("v", MIB, List.of(HOST_A)));
        whileRegistryWritesFail(() -> {
            assertThrows(UncheckedIOException.class, () -> manager.setHosts(PROJECT, volume.id(), List.of(HOST_B)));
            assertThrows(UncheckedIOException.class, () -> manager.addHost(PROJECT, volume.id(), HOST_B));
        });
        assertEquals(List.of(HOST_A), manager.find(PROJECT, volume.id()).orElseThrow().hosts());
        assertEquals(Set.of(HOST_A), manager.subsystem().namespace(volume.nsid()).allowedHosts());
    }

    @Test
    void nsidsKeepIncreasingSoADeletedVolumesNsidIsNotHandedOutAgain() throws IOException {
        // Before NsidAllocator, the lowest free NSID was reused at once: "d" got 2, the NSID of the
        // deleted "b", which a host that missed the change notice would still address.
        Volume a = create("a");
        Volume b = create("b");
        Volume c = create("c");
        assertEquals(List.of(1, 2, 3), List.of(a.nsid(), b.nsid(), c.nsid()));

        manager.delete(PROJECT, b.id());
        assertEquals(4, create("d").nsid(), "the freed NSID 2 is not reused");
        assertEquals(5, manager.create(OTHER_PROJECT, new CreateVolumeRequest("e", MIB, List.of())).nsid(),
                "NSIDs are shared by every project");

        manager.delete(PROJECT, a.id());
        restart();
        assertEquals(List.of(3, 4), manager.list(PROJECT, null).stream().map(Volume::nsid).toList(), "NSIDs are kept");
        assertEquals(6, create("f").nsid(), "a restart does not go back to freed NSIDs");
    }

    @Test
    void concurrentCreatesGetDistinctNsidsAndOneWinsEachName() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Volume>> distinct = new ArrayList<>();
            List<Future<Volume>> contested = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                String name = "v" + i;
                distinct.add(pool.submit(() -> create(name)));
                contested.add(pool.submit(() -> create("contested")));
            }
            Set<Integer> nsids = new HashSet<>();
            for (Future<Volume> f : distinct) {
                nsids.add(f.get().nsid());
            }
            int winners = 0;
            for (Future<Volume> f : contested) {
                try {
                    nsids.add(f.get().nsid());
                    winners++;
                } catch (ExecutionException e) {
                    assertInstanceOf(VolumeConflictException.class, e.getCause());
                }
            }
            assertEquals(1, winners);
            assertEquals(threads + 1, nsids.size());
        } finally {
            pool.shutdown();
        }
        restart();
        assertEquals(threads + 1, manager.list(PROJECT, null).size());
        assertEquals(threads + 1, manager.engine().mapIds().size(), "one engine map per volume, no strays");
    }

    @Test
    void aCreateThatCannotBeRecordedLeavesNothingBehind() throws IOException {
        byte[] registryBefore = Files.readAllBytes(node.registry());
        whileRegistryWritesFail(() -> {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> create("v"));
            assertTrue(e.getMessage().contains("'v'"), e.getMessage());
        });
        assertNothingCreated();
        assertArrayEquals(registryBefore, Files.readAllBytes(node.registry()));
        assertEquals(1, create("v").nsid(), "the name and the NSID are still free");
    }

    @Test
    void deleteRemovesNamespaceEngineMapAndRecord() throws Exception {
        Volume volume = create("v");
        node.write(volume, 0, node.data(4, 1));
        Volume kept = create("kept");
        var device = node.device(volume);

        manager.delete(PROJECT, volume.id());

        assertNull(manager.subsystem().namespace(volume.nsid()));
        assertTrue(manager.find(PROJECT, volume.id()).isEmpty());
        assertEquals(1, manager.engine().mapIds().size(), "the volume's engine map is gone");
        assertEquals(io.basalt.nvmetcp.nvme.Status.NAMESPACE_NOT_READY | io.basalt.nvmetcp.nvme.Status.DNR,
                DeviceCalls.read(device, 0, 1, io.netty.buffer.Unpooled.buffer()), "a late I/O fails cleanly");
        assertThrows(VolumeNotFoundException.class, () -> manager.delete(PROJECT, volume.id()));
        restart();
        assertEquals(List.of(kept), manager.list(PROJECT, null));
        assertEquals(1, manager.engine().mapIds().size());
    }

    @Test
    void deleteThatCannotBeRecordedChangesNothing() throws IOException {
        Volume volume = create("v");
        whileRegistryWritesFail(() -> {
            assertThrows(UncheckedIOException.class, () -> manager.delete(PROJECT, volume.id()));
        });
        assertEquals(volume, manager.find(PROJECT, volume.id()).orElseThrow());
        assertNotNull(manager.subsystem().namespace(volume.nsid()));
        assertEquals(1, manager.engine().mapIds().size());
    }

    @Test
    void unknownVolumesAreNotFound() {
        assertThrows(VolumeNotFoundException.class, () -> manager.delete(PROJECT, "nope"));
        assertThrows(VolumeNotFoundException.class, () -> manager.setHosts(PROJECT, "nope", List.of()));
        assertThrows(VolumeNotFoundException.class, () -> manager.create(PROJECT,
                new CreateVolumeRequest("clone", 0, List.of(), null, null, null, "nope")));
        assertTrue(manager.find(PROJECT, "nope").isEmpty());
    }

    @Test
    void provisioningStopsAtTheOverSubscriptionLimit() throws IOException {
        node.maxOversubscription = 1.0;
        restart();
        long capacity = manager.engine().capacityBytes();
        assertTrue(capacity > 200 * MIB && capacity <= ManagerHarness.DRIVE_SIZE, "capacity " + capacity);
        long blocks = capacity / 4096;

        Volume big = node.create("big", (blocks - 256) * 4096);
        InsufficientCapacityException e = assertThrows(InsufficientCapacityException.class,
                () -> node.create("too-much", 2 * MIB));
        assertTrue(e.getMessage().contains(String.valueOf(capacity)), e.getMessage());
        assertThrows(InsufficientCapacityException.class, () -> node.cloneOf("clone", big));
        assertThrows(InsufficientCapacityException.class, () -> manager.extend(PROJECT, big.id(), big.sizeBytes()
                + 2 * MIB));
        assertEquals(List.of(big), manager.list(PROJECT, null), "nothing was made");
        assertEquals(1, manager.engine().mapIds().size());

        Volume rest = node.create("rest", MIB);
        assertEquals(blocks * 4096, big.sizeBytes() + rest.sizeBytes(), "up to the limit exactly");
        manager.delete(PROJECT, big.id());
        assertEquals(3 * MIB, manager.extend(PROJECT, rest.id(), 3 * MIB).sizeBytes(), "deleting frees the quota");

        node.maxOversubscription = 10.0;
        restart();
        assertEquals("rest2", node.create("rest2", 5 * capacity / 4096 * 4096).name(), "10x allows more");
    }

    @Test
    void everythingSurvivesARestart() throws Exception {
        Volume first = manager.create(PROJECT, new CreateVolumeRequest("first", MIB, List.of(HOST_A, HOST_B)));
        Volume second = manager.create(OTHER_PROJECT, new CreateVolumeRequest("second", 2 * MIB, List.of(), true,
                null, null, null));
        byte[] data = node.data(2, 42);
        node.write(second, 8, data);
        byte[] head = node.data(1, 43);
        node.write(first, 0, head);
        first = manager.extend(PROJECT, first.id(), 4 * MIB);
        second = manager.find(OTHER_PROJECT, second.id()).orElseThrow();

        restart();

        assertEquals(List.of(first), manager.list(PROJECT, null));
        assertEquals(List.of(second), manager.list(OTHER_PROJECT, null));
        Namespace ns = manager.subsystem().namespace(first.nsid());
        assertEquals(first.uuid(), ns.uuid());
        assertArrayEquals(HexFormat.of().parseHex(first.nguid()), ns.nguid());
        assertEquals(Set.of(HOST_A, HOST_B), ns.allowedHosts());
        assertEquals(4 * MIB / 4096, ns.device().blockCount());
        assertArrayEquals(data, node.read(second, 8, 2));
        assertArrayEquals(head, node.read(first, 0, 1));
        assertTrue(manager.find(OTHER_PROJECT, second.id()).orElseThrow().compression());
    }

    @Test
    void observersAreAttachedAndToldOfDeletes() throws IOException {
        List<String> events = new ArrayList<>();
        IoObserver observer = (opcode, bytes, nanos, status) -> { };
        node.observers = new VolumeObservers() {
            @Override
            public IoObserver observerFor(String volumeId, String volumeName) {
                events.add("open " + volumeName);
                return observer;
            }

            @Override
            public void volumeDeleted(String volumeId) {
                events.add("delete " + volumeId);
            }
        };
        Volume kept = create("kept");
        restart();
        Volume volume = create("v");
        assertEquals(observer, manager.subsystem().namespace(volume.nsid()).observer());
        manager.delete(PROJECT, volume.id());
        assertEquals(List.of("open kept", "open v", "delete " + volume.id()), events);
        assertEquals(observer, manager.subsystem().namespace(kept.nsid()).observer());
    }

    @Test
    void aSecondManagerCannotOpenTheSameDataDirectory() {
        IOException e = assertThrows(IOException.class, node::openStore);
        assertTrue(e.getMessage().contains("in use"), e.getMessage());
    }

    @Test
    void orphanEngineMapsAreDeletedAtStart() throws IOException {
        Volume volume = create("v");
        int orphan = manager.engine().createVolume(4096, 256, false); // as if a crash came before the registry
        assertEquals(2, manager.engine().mapIds().size());

        restart();

        assertEquals(1, manager.engine().mapIds().size());
        assertFalse(manager.engine().mapIds().contains(orphan));
        assertEquals(List.of(volume), manager.list(PROJECT, null));
    }

    @Test
    void aMissingEngineMapStopsTheStartWithAClearError() throws IOException {
        Volume volume = create("v");
        node.close();
        node.replaceInRegistry("\"mapId\" : ", "\"mapId\" : 9");

        IOException e = assertThrows(IOException.class, node::open);
        assertTrue(e.getMessage().contains(volume.id()) && e.getMessage().contains("missing"), e.getMessage());
        IOException again = assertThrows(IOException.class, node::open);
        assertFalse(again.getMessage().contains("in use"), "the failed start released the data directory: "
                + again.getMessage());
    }

    @Test
    void aCorruptRegistryStopsTheStartAndIsKept() throws IOException {
        node.close();
        Files.writeString(node.registry(), "{not json");
        IOException e = assertThrows(IOException.class, node::open);
        assertTrue(e.getMessage().contains("registry"), e.getMessage());
        assertEquals("{not json", Files.readString(node.registry()));
    }

    @Test
    void aFormatOneRegistryIsRefusedWithAClearMessage() throws IOException {
        node.close();
        String formatOne = """
                {
                  "format" : 1,
                  "subsystemNqn" : "nqn.2026-11.io.basalt:subsystem:5b0c7f3e-2a51-4d7e-9f0a-3c1e2d4b6a88",
                  "volumes" : [ {
                    "id" : "6f1c2a9e-0000-4000-8000-000000000001",
                    "name" : "old",
                    "sizeBytes" : 1048576,
                    "blockSize" : 512,
                    "nsid" : 1,
                    "uuid" : "6f1c2a9e-0000-4000-8000-000000000002",
                    "nguid" : "0123456789abcdef0123456789abcdef",
                    "hosts" : [ ]
                  } ]
                }
                """;
        Files.writeString(node.registry(), formatOne);

        IOException e = assertThrows(IOException.class, node::open);
        assertTrue(e.getMessage().contains("format 1") && e.getMessage().contains("format 2"), e.getMessage());
        assertEquals(formatOne, Files.readString(node.registry()), "the old registry is kept");
    }

    @Test
    void aRegistryMarkedFormatOneIsRefusedWithAClearMessage() throws IOException {
        create("v");
        node.close();
        node.replaceInRegistry("\"format\" : 2", "\"format\" : 1");
        IOException e = assertThrows(IOException.class, node::open);
        assertTrue(e.getMessage().contains("format 1") && e.getMessage().contains("format 2")
                && e.getMessage().contains("copy their data"), e.getMessage());
    }

    @Test
    void aRegistryOfAFutureFormatIsRefused() throws IOException {
        node.close();
        node.replaceInRegistry("\"format\" : 2", "\"format\" : 3");
        IOException e = assertThrows(IOException.class, node::open);
        assertTrue(e.getMessage().contains("format 3"), e.getMessage());
    }

    private Volume create(String name) {
        return node.create(name, MIB);
    }

    private void restart() throws IOException {
        node.restart();
        manager = node.manager;
    }

    private void assertNothingCreated() {
        assertTrue(manager.list(PROJECT, null).isEmpty());
        assertTrue(manager.subsystem().namespaces().isEmpty());
        assertTrue(manager.engine().mapIds().isEmpty(), "engine maps " + manager.engine().mapIds());
    }

    /** Runs {@code body} while registry writes fail: a non-empty directory sits where the temporary file goes. */
    private void whileRegistryWritesFail(Runnable body) throws IOException {
        Path blocker = dataDir.resolve(VolumeRegistry.FILE_NAME + ".tmp");
        Files.createDirectories(blocker.resolve("x"));
        try {
            body.run();
        } finally {
            Files.delete(blocker.resolve("x"));
            Files.delete(blocker);
        }
    }

    static final class RecordingListener implements Subsystem.NamespaceChangeListener {
        private final String hostNqn;
        final List<Integer> changed = new ArrayList<>();

        RecordingListener(String hostNqn) {
            this.hostNqn = hostNqn;
        }

        @Override
        public String hostNqn() {
            return hostNqn;
        }

        @Override
        public void namespacesChanged(Collection<Integer> nsids) {
            changed.addAll(nsids);
        }
    }
}
