package io.basalt.cluster.membership;

/** An NVMe/TCP portal of a node, as hosts dial it. */
public record PortalAddress(String transport, String address, int port) {
    public PortalAddress {
        if (transport == null || transport.isEmpty() || address == null || address.isEmpty() || port < 1 || port > 65535) {
            throw new IllegalArgumentException("a portal needs a transport, an address and a port from 1 to 65535");
        }
    }
}
