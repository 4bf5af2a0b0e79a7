package io.basalt.bridge.api;

import java.util.List;

/** Body of {@code GET /api/v1/snapshots}; an object rather than a bare array so fields can be added later. */
public record SnapshotList(List<Snapshot> snapshots) {

    public SnapshotList {
        snapshots = List.copyOf(snapshots);
    }
}
