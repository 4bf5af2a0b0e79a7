package io.basalt.bridge.api;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * A node of the cluster, as {@code GET /api/v1/cluster/nodes} lists it.
 *
 * @param id                 the node's UUID
 * @param failureDomain      the label of what fails together with it (a rack, a host)
 * @param apiAddress         the URL of its volume API
 * @param portals            its NVMe/TCP portals
 * @param live               whether its lease holds: false when it is down or cannot reach the cluster's metadata store
 * @param self               whether it is the node that answers
 * @param totalBytes         its capacity as last reported; null (absent) while it is down
 * @param freeBytes          its free space as last reported; null (absent) while it is down
 * @param capacityReportedAt when it last reported them (ISO-8601, the node's clock); null (absent) while it is down
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ClusterNode(String id, String failureDomain, String apiAddress, List<Portal> portals, boolean live,
                          boolean self, Long totalBytes, Long freeBytes, String capacityReportedAt) {
    public ClusterNode {
        portals = List.copyOf(portals);
    }
}
