package io.basalt.bridge.api;

import java.time.Instant;
import java.util.List;

/**
 * Snapshots of several volumes taken at one instant (crash-consistent): every write acknowledged
 * before the request is in all of them, and none issued after it returned is in any.
 *
 * @param id        identifier, chosen by the service
 * @param name      the caller's name, unique among the project's snapshot groups
 * @param project   the project that owns it
 * @param createdAt when it was taken
 * @param snapshots its member snapshots, one per volume, in the order the volumes were named
 */
public record SnapshotGroup(String id, String name, String project, Instant createdAt, List<Snapshot> snapshots) {

    public SnapshotGroup {
        snapshots = List.copyOf(snapshots);
    }
}
