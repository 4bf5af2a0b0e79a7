package io.basalt.bridge.api;

/**
 * The cluster as one node sees it, as {@code GET /api/v1/cluster} returns it.
 *
 * @param name                the cluster's name
 * @param nodeId              the node that answers
 * @param failureDomain       that node's failure domain
 * @param nodes               nodes the cluster knows, live or down
 * @param liveNodes           nodes whose lease holds
 * @param liveFailureDomains  distinct failure domains among the live nodes: the most replicas a volume can have now
 * @param totalBytes          capacity of the live nodes together
 * @param freeBytes           free space of the live nodes together
 * @param volumes             volumes recorded in the cluster, every project's
 * @param provisionedBytes    their sizes added up, once per copy (what they may take of {@code totalBytes})
 */
public record ClusterOverview(String name, String nodeId, String failureDomain, int nodes, int liveNodes,
                              int liveFailureDomains, long totalBytes, long freeBytes, int volumes,
                              long provisionedBytes) {
}
