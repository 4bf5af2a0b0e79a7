package io.basalt.bench;

import io.basalt.nvmetcp.host.HostQueue;

/** The load over one NVMe/TCP I/O queue of a {@link io.basalt.nvmetcp.host.HostController}. */
final class NvmeTransport implements BenchTransport {
    private final HostQueue queue;
    private final int nsid;
    private final int blockSize;
    private final int blocksPerIo;
    private final boolean read;

    NvmeTransport(HostQueue queue, int nsid, int blockSize, int ioSize, boolean read) {
        if (ioSize % blockSize != 0) {
            throw new IllegalArgumentException("--bs " + ioSize + " is not a multiple of the block size " + blockSize);
        }
        this.queue = queue;
        this.nsid = nsid;
        this.blockSize = blockSize;
        this.blocksPerIo = ioSize / blockSize;
        this.read = read;
    }

    @Override
    public void submit(Op op) {
        long lba = op.offset / blockSize;
        if (read) {
            op.buffer.clear();
            queue.read(nsid, lba, blocksPerIo, op.buffer, op);
        } else {
            queue.write(nsid, lba, blocksPerIo, op.buffer, false, op);
        }
    }

    @Override
    public void close() {
        // the controller closes its queues
    }
}
