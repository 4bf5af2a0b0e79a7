package io.basalt.service.volume;

import java.time.Instant;
import java.util.List;

/**
 * What the registry keeps about one snapshot group; its members are ordinary snapshot records.
 *
 * @param id          identifier
 * @param name        the caller's name, unique among the project's snapshot groups
 * @param project     owning project
 * @param createdAt   when it was taken
 * @param snapshotIds its member snapshots, in the order the request named their volumes
 */
public record SnapshotGroupRecord(String id, String name, String project, Instant createdAt,
                                  List<String> snapshotIds) {

    public SnapshotGroupRecord {
        snapshotIds = List.copyOf(snapshotIds);
    }
}
