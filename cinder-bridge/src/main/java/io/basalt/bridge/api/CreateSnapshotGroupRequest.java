package io.basalt.bridge.api;

import java.util.List;

/**
 * Body of {@code POST /api/v1/snapshot-groups}.
 *
 * @param name      unique name within the project, same rules as a volume's name
 * @param volumeIds the volumes to snapshot together: 1 to {@link #MAX_VOLUMES}, each once
 */
public record CreateSnapshotGroupRequest(String name, List<String> volumeIds) {
    /** Volumes in one group: Cinder's consistency groups are small, and the engine logs them in one batch. */
    public static final int MAX_VOLUMES = 64;

    public CreateSnapshotGroupRequest {
        volumeIds = List.copyOf(volumeIds);
    }
}
