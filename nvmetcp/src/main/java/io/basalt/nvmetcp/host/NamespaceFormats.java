package io.basalt.nvmetcp.host;

import java.util.Arrays;

/**
 * Block sizes of the namespaces a controller has identified, which the I/O path needs to turn block
 * counts into transfer lengths. Indexed by NSID and replaced as a whole (copy on write), so lookups
 * on the I/O path take no lock and allocate nothing.
 */
final class NamespaceFormats {
    /** NSIDs above this are not tracked (I/O to them is refused); controllers report far fewer namespaces. */
    static final int MAX_TRACKED_NSID = 1 << 16;

    private volatile int[] blockSizes = new int[0];

    /** The block size of an identified active namespace, or 0. */
    int blockSize(int nsid) {
        int[] sizes = blockSizes;
        return nsid > 0 && nsid < sizes.length ? sizes[nsid] : 0;
    }

    /** Records a namespace's block size; 0 forgets an inactive namespace. */
    synchronized void record(int nsid, int blockSize) {
        if (nsid <= 0 || nsid > MAX_TRACKED_NSID) {
            return;
        }
        int[] sizes = blockSizes;
        int[] updated = Arrays.copyOf(sizes, Math.max(sizes.length, nsid + 1));
        updated[nsid] = blockSize;
        blockSizes = updated;
    }
}
