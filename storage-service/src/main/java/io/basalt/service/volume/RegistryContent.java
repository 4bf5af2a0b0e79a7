package io.basalt.service.volume;

import java.util.List;
import java.util.UUID;

/**
 * The registry file's content.
 *
 * @param format       layout version of this file, so later releases can tell what they read
 * @param subsystemNqn the node's subsystem NQN, generated on first start and kept for good
 * @param nodeId       the node's identity, written into its drives' superblocks
 * @param volumes      every volume of the node
 * @param snapshots    every snapshot of the node
 * @param nextNsid     the NSID the next volume gets (NSIDs keep increasing, see {@link NsidAllocator});
 *                     0 in registries written before it was recorded
 * @param snapshotGroups every snapshot group of the node; absent (none) in registries written before
 *                     groups existed, which is why the format did not change
 */
record RegistryContent(int format, String subsystemNqn, UUID nodeId, List<VolumeRecord> volumes,
                       List<SnapshotRecord> snapshots, int nextNsid, List<SnapshotGroupRecord> snapshotGroups) {
    static final int CURRENT_FORMAT = 2;

    RegistryContent {
        volumes = List.copyOf(volumes);
        snapshots = List.copyOf(snapshots);
        snapshotGroups = snapshotGroups == null ? List.of() : List.copyOf(snapshotGroups);
    }

    RegistryContent with(List<VolumeRecord> newVolumes, List<SnapshotRecord> newSnapshots, int newNextNsid) {
        return new RegistryContent(format, subsystemNqn, nodeId, newVolumes, newSnapshots, newNextNsid,
                snapshotGroups);
    }

    RegistryContent withSnapshotGroups(List<SnapshotRecord> newSnapshots, List<SnapshotGroupRecord> newGroups) {
        return new RegistryContent(format, subsystemNqn, nodeId, volumes, newSnapshots, nextNsid, newGroups);
    }
}
