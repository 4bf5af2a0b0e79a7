package io.basalt.cluster.membership;

import java.util.List;
import java.util.UUID;

/**
 * What stays true of a node while it runs: the value of its {@code nodes/<id>} key, which outlives the
 * node's lease so the cluster remembers a node that is down.
 *
 * @param nodeId        the node's UUID (the one its data directory was created with)
 * @param failureDomain the label of what fails together with it
 * @param apiAddress    the URL of its volume API
 * @param portals       its NVMe/TCP portals
 */
public record NodeDescription(String nodeId, String failureDomain, String apiAddress, List<PortalAddress> portals) {
    /** A node has an I/O portal and perhaps a discovery portal or a few addresses, never many. */
    static final int MAX_PORTALS = 16;

    public NodeDescription {
        UUID.fromString(nodeId);
        if (failureDomain == null || failureDomain.isEmpty() || apiAddress == null || apiAddress.isEmpty()) {
            throw new IllegalArgumentException("a node needs a failure domain and an API address");
        }
        portals = List.copyOf(portals);
        if (portals.size() > MAX_PORTALS) {
            throw new IllegalArgumentException("a node lists at most " + MAX_PORTALS + " portals, not " + portals.size());
        }
    }
}
