package io.basalt.nvmetcp.nvmet;

/**
 * What one host may hold of a target's memory and connections, so that no host can exhaust the
 * node for the others. Data bytes are the buffers of commands in flight: write data asked for by
 * R2T (reserved when the R2T is sent, until the command completes), write data sent in an I/O
 * queue's capsule (charged when it arrives, until the command completes) and read data (reserved
 * before the read runs, until its last byte is handed to the socket). A command that does not fit
 * waits, holding its queue slot but no memory (an in-capsule write holds its data, and its
 * connection stops reading until it runs), until bytes are returned.
 *
 * @param connectionDataBytes data bytes in flight on one connection (at least the largest transfer and in-capsule data)
 * @param nodeDataBytes       data bytes in flight on all connections together
 * @param connectionsPerHost  connections from one IP address
 * @param connectionsPerNode  connections in all
 * @param connectTimeoutMillis a connection must have sent ICReq and completed Fabrics Connect within this
 * @param dataTimeoutMillis   the host must send all data an R2T asked for within this
 */
public record ResourceLimits(long connectionDataBytes, long nodeDataBytes, int connectionsPerHost,
                             int connectionsPerNode, long connectTimeoutMillis, long dataTimeoutMillis) {

    public static ResourceLimits defaults() {
        return new ResourceLimits(8L << 20, 256L << 20, 64, 1024, 10_000, 10_000);
    }

    public ResourceLimits {
        if (connectionDataBytes <= 0 || nodeDataBytes < connectionDataBytes) {
            throw new IllegalArgumentException("data bytes per node (" + nodeDataBytes
                    + ") must be at least those per connection (" + connectionDataBytes + "), which must be positive");
        }
        if (connectionsPerHost < 1 || connectionsPerNode < connectionsPerHost) {
            throw new IllegalArgumentException("connections per node (" + connectionsPerNode
                    + ") must be at least those per host (" + connectionsPerHost + "), which must be positive");
        }
        if (connectTimeoutMillis < 1 || dataTimeoutMillis < 1) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
    }
}
