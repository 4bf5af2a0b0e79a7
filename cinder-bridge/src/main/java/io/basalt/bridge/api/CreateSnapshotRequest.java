package io.basalt.bridge.api;

/**
 * Body of {@code POST /api/v1/snapshots}.
 *
 * @param name           unique name within the project, same rules as a volume's name
 * @param sourceVolumeId the volume to take the snapshot of
 */
public record CreateSnapshotRequest(String name, String sourceVolumeId) {
}
