package io.basalt.bridge.api;

import java.util.List;

/** Body of {@code GET /api/v1/cluster/nodes}: by failure domain, then node id. */
public record ClusterNodeList(List<ClusterNode> nodes) {
    public ClusterNodeList {
        nodes = List.copyOf(nodes);
    }
}
