package io.basalt.attach.nbd;

import io.basalt.nvmetcp.host.ControllerInfo;
import io.basalt.nvmetcp.host.HostQueue;
import io.basalt.nvmetcp.host.NamespaceInfo;

/**
 * The shape of the exported namespace as clients see it.
 *
 * @param sizeBytes        the namespace's size
 * @param blockSize        its logical block size: the smallest unit a request may address
 * @param maxTransferBytes the largest read or write one NVMe command carries; larger requests are split
 */
record ExportGeometry(long sizeBytes, int blockSize, int maxTransferBytes) {
    /** NVMe counts blocks of one command in 16 bits (NLB is zero based). */
    static final int MAX_BLOCKS_PER_COMMAND = 0x10000;

    /** The namespace as identified, within what the controller, the host queue and NBD clients can carry. */
    static ExportGeometry of(NamespaceInfo namespace, ControllerInfo controller) {
        int blockSize = namespace.blockSize();
        long maxTransfer = Math.min(Math.min(controller.maxTransferBytes(), HostQueue.MAX_TRANSFER),
                Math.min(NbdProtocol.MAX_PAYLOAD, (long) MAX_BLOCKS_PER_COMMAND * blockSize));
        return new ExportGeometry(namespace.sizeBytes(), blockSize, (int) maxTransfer);
    }

    /** Whether a request for {@code length} bytes at {@code offset} lies inside the namespace, on block boundaries. */
    boolean admits(long offset, long length) {
        return offset >= 0 && length >= 0 && offset <= sizeBytes && length <= sizeBytes - offset
                && offset % blockSize == 0 && length % blockSize == 0;
    }

    /** Largest range one Write Zeroes or Deallocate covers. */
    long maxRangeBytes() {
        return (long) MAX_BLOCKS_PER_COMMAND * blockSize;
    }
}
