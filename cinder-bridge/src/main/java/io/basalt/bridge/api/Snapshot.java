package io.basalt.bridge.api;

import java.time.Instant;

/**
 * A read-only point-in-time image of a volume.
 *
 * @param id             identifier, chosen by the service
 * @param name           the caller's name, unique within the project
 * @param project        the project that owns it
 * @param sourceVolumeId the volume it was taken of (which may since have been deleted)
 * @param sizeBytes      the volume's size when it was taken
 * @param createdAt      when it was taken
 * @param space          physical space it references
 */
public record Snapshot(String id, String name, String project, String sourceVolumeId, long sizeBytes,
                       Instant createdAt, SpaceUsage space) {
}
