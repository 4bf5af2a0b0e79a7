package io.basalt.bridge;

import io.basalt.bridge.api.ClusterNodeList;
import io.basalt.bridge.api.ClusterOverview;

/**
 * The port through which the API shows the cluster a node belongs to. Answers come from the node's
 * cached member list: they never wait for the cluster's metadata store.
 */
public interface ClusterService {
    ClusterOverview overview();

    ClusterNodeList nodes();
}
