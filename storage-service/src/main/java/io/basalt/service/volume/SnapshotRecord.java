package io.basalt.service.volume;

import java.time.Instant;

/**
 * What the registry keeps about one snapshot.
 *
 * @param id             identifier
 * @param name           the caller's name, unique among the project's snapshots
 * @param project        owning project
 * @param sourceVolumeId the volume it was taken of
 * @param sizeBytes      the volume's size at that moment
 * @param createdAt      when it was taken
 * @param mapId          the engine's read-only map holding its blocks
 */
public record SnapshotRecord(String id, String name, String project, String sourceVolumeId, long sizeBytes,
                             Instant createdAt, int mapId) {
}
