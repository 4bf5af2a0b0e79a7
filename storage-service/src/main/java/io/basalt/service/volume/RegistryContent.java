package io.basalt.service.volume;

import java.util.List;

/**
 * The registry file's content.
 *
 * @param format       layout version of this file, so later releases can tell what they read
 * @param subsystemNqn the node's subsystem NQN, generated on first start and kept for good
 * @param volumes      every volume of the node
 */
record RegistryContent(int format, String subsystemNqn, List<VolumeRecord> volumes) {
    static final int CURRENT_FORMAT = 1;

    RegistryContent {
        volumes = List.copyOf(volumes);
    }

    RegistryContent withVolumes(List<VolumeRecord> newVolumes) {
        return new RegistryContent(format, subsystemNqn, newVolumes);
    }
}
