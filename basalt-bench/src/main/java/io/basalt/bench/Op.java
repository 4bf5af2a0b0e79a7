package io.basalt.bench;

import io.basalt.nvmetcp.host.IoCompletion;
import io.basalt.nvmetcp.host.NvmeTransportException;
import io.netty.buffer.ByteBuf;

/**
 * One of a connection's outstanding I/Os, reused for the whole run (the benchmark allocates nothing
 * per I/O): its data buffer, where it goes, and when it started.
 */
final class Op implements IoCompletion {
    final ConnectionLoad load;
    /** Data written, or the buffer a read fills. */
    final ByteBuf buffer;
    long offset;
    long startNanos;

    Op(ConnectionLoad load, ByteBuf buffer) {
        this.load = load;
        this.buffer = buffer;
    }

    /** Completed with an NVMe status (0 for success). */
    void done(int status) {
        load.completed(this, status);
    }

    @Override
    public void complete(int status, long result) {
        done(status);
    }

    @Override
    public void failed(NvmeTransportException cause) {
        load.failed(this, cause);
    }
}
