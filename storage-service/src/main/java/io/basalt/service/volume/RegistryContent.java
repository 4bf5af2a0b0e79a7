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
 */
record RegistryContent(int format, String subsystemNqn, UUID nodeId, List<VolumeRecord> volumes,
                       List<SnapshotRecord> snapshots, int nextNsid) {
    static final int CURRENT_FORMAT = 2;

    RegistryContent {
        volumes = List.copyOf(volumes);
        snapshots = List.copyOf(snapshots);
    }

    RegistryContent with(List<VolumeRecord> newVolumes, List<SnapshotRecord> newSnapshots, int newNextNsid) {
        return new RegistryContent(format, subsystemNqn, nodeId, newVolumes, newSnapshots, newNextNsid);
    }
}
