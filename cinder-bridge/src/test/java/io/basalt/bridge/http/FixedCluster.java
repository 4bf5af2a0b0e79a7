package io.basalt.bridge.http;

import io.basalt.bridge.ClusterService;
import io.basalt.bridge.ClusterUnavailableException;
import io.basalt.bridge.api.ClusterNode;
import io.basalt.bridge.api.ClusterNodeList;
import io.basalt.bridge.api.ClusterOverview;
import io.basalt.bridge.api.Portal;

import java.util.List;

/** A cluster of two nodes, one down, as the node's member list would show it; or a node still joining. */
final class FixedCluster implements ClusterService {
    static final String SELF = "6f1c2b9e-5d4a-4e3b-8c7d-1a2b3c4d5e6f";
    static final String DOWN = "0a1b2c3d-4e5f-4a6b-8c9d-0e1f2a3b4c5d";
    static final ClusterNodeList NODES = new ClusterNodeList(List.of(
            new ClusterNode(SELF, "rack-a", "http://127.0.0.1:8470", List.of(new Portal("tcp", "127.0.0.1", 4420)),
                    true, true, 1L << 40, 1L << 39, "2026-12-01T13:00:00Z"),
            new ClusterNode(DOWN, "rack-b", "http://127.0.0.2:8470", List.of(new Portal("tcp", "127.0.0.2", 4420)),
                    false, false, null, null, null)));

    volatile boolean joining;

    @Override
    public ClusterOverview overview() {
        requireJoined();
        return new ClusterOverview("prod", SELF, "rack-a", 2, 1, 1, 1L << 40, 1L << 39, 3, 3L << 30);
    }

    @Override
    public ClusterNodeList nodes() {
        requireJoined();
        return NODES;
    }

    private void requireJoined() {
        if (joining) {
            throw new ClusterUnavailableException("this node is joining cluster prod");
        }
    }
}
