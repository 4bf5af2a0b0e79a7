package io.basalt.bridge.api;

import java.util.List;

/**
 * Body of {@code PUT /api/v1/volumes/{id}/hosts}: the complete new list of allowed host NQNs.
 */
public record HostsRequest(List<String> hosts) {

    public HostsRequest {
        hosts = List.copyOf(hosts);
    }
}
