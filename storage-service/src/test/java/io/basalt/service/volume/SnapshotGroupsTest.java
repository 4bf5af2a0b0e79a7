package io.basalt.service.volume;

import io.basalt.bridge.SnapshotGroupNotFoundException;
import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.VolumeNotFoundException;
import io.basalt.bridge.api.CreateSnapshotGroupRequest;
import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.SnapshotGroup;
import io.basalt.bridge.api.Volume;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;

import static io.basalt.service.volume.ManagerHarness.MIB;
import static io.basalt.service.volume.ManagerHarness.OTHER_PROJECT;
import static io.basalt.service.volume.ManagerHarness.PROJECT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Snapshot groups in the volume manager: members, volumes from them, deletion, restart, refusals. */
class SnapshotGroupsTest extends ManagerTest {

    @Test
    void aGroupHoldsOneSnapshotPerVolumeAndSurvivesARestart() throws Exception {
        Volume a = node.create("a", MIB);
        Volume b = node.create("b", 2 * MIB);
        byte[] first = node.data(4, 1);
        byte[] second = node.data(4, 2);
        node.write(a, 0, first);
        node.write(b, 8, second);
        SnapshotGroup group = manager.createSnapshotGroup(PROJECT, new CreateSnapshotGroupRequest("g",
                List.of(b.id(), a.id())));
        node.write(a, 0, node.data(4, 3));

        assertEquals(List.of(b.id(), a.id()), group.snapshots().stream().map(Snapshot::sourceVolumeId).toList());
        assertEquals(List.of("g.0", "g.1"), group.snapshots().stream().map(Snapshot::name).toList());
        assertEquals(List.of(2 * MIB, MIB), group.snapshots().stream().map(Snapshot::sizeBytes).toList());
        // Taken at one instant, the members list in id order among the snapshots (oldest first, then by id).
        assertEquals(group.snapshots().stream().map(Snapshot::id).collect(Collectors.toSet()),
                manager.listSnapshots(PROJECT, null).stream().map(Snapshot::id).collect(Collectors.toSet()),
                "members are snapshots");
        Volume restored = node.fromSnapshot("restored", group.snapshots().get(1));
        assertArrayEquals(first, node.read(restored, 0, 4), "the snapshot holds the write before it, not after");
        assertArrayEquals(second, node.read(node.fromSnapshot("restored-b", group.snapshots().get(0)), 8, 4));

        restart();
        SnapshotGroup found = manager.findSnapshotGroup(PROJECT, group.id()).orElseThrow();
        assertEquals(List.of(found), manager.listSnapshotGroups(PROJECT, "g"));
        assertEquals(group.createdAt(), found.createdAt());
        assertEquals(group.snapshots().stream().map(Snapshot::id).toList(),
                found.snapshots().stream().map(Snapshot::id).toList());
        assertEquals(List.of(), manager.listSnapshotGroups(OTHER_PROJECT, null));
        assertTrue(manager.findSnapshotGroup(OTHER_PROJECT, group.id()).isEmpty());
    }

    @Test
    void aMemberIsDeletedOnlyWithItsGroup() throws Exception {
        Volume a = node.create("a", MIB);
        int maps = manager.engine().mapIds().size();
        SnapshotGroup group = manager.createSnapshotGroup(PROJECT, new CreateSnapshotGroupRequest("g", List.of(a.id())));
        String member = group.snapshots().getFirst().id();
        assertThrows(VolumeConflictException.class, () -> manager.deleteSnapshot(PROJECT, member));
        assertThrows(SnapshotGroupNotFoundException.class, () -> manager.deleteSnapshotGroup(OTHER_PROJECT, group.id()));

        manager.deleteSnapshotGroup(PROJECT, group.id());
        assertEquals(List.of(), manager.listSnapshots(PROJECT, null));
        assertEquals(List.of(), manager.listSnapshotGroups(PROJECT, null));
        assertEquals(maps, manager.engine().mapIds().size(), "the members' engine maps are gone");
        restart();
        assertEquals(List.of(), manager.listSnapshotGroups(PROJECT, null));
    }

    @Test
    void refusalsChangeNothing() {
        Volume a = node.create("a", MIB);
        Volume foreign = manager.create(OTHER_PROJECT, new CreateVolumeRequest("f", MIB, List.of()));
        manager.createSnapshot(PROJECT, new CreateSnapshotRequest("taken.0", a.id()));
        int maps = manager.engine().mapIds().size();

        assertThrows(VolumeNotFoundException.class, () -> manager.createSnapshotGroup(PROJECT,
                new CreateSnapshotGroupRequest("g", List.of(a.id(), foreign.id()))));
        VolumeConflictException member = assertThrows(VolumeConflictException.class, () ->
                manager.createSnapshotGroup(PROJECT, new CreateSnapshotGroupRequest("taken", List.of(a.id()))));
        assertEquals("name", member.field());
        manager.createSnapshotGroup(PROJECT, new CreateSnapshotGroupRequest("g", List.of(a.id())));
        assertThrows(VolumeConflictException.class, () -> manager.createSnapshotGroup(PROJECT,
                new CreateSnapshotGroupRequest("g", List.of(a.id()))));
        assertEquals(maps + 1, manager.engine().mapIds().size());
        assertEquals(1, manager.listSnapshotGroups(PROJECT, null).size());
    }

    private void restart() throws IOException {
        node.restart();
        manager = node.manager;
    }
}
