package io.basalt.bridge.api;

import java.util.List;

/** Body of {@code GET /api/v1/snapshot-groups}. */
public record SnapshotGroupList(List<SnapshotGroup> snapshotGroups) {

    public SnapshotGroupList {
        snapshotGroups = List.copyOf(snapshotGroups);
    }
}
