package io.basalt.service.replication;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The regions an in-sync secondary acknowledged writes to since its last completed flush: what its
 * node may lose in a power cut although the host was told they are written (a secondary's engine, like
 * a drive with a volatile write cache, makes a write durable only at a flush, or at once with FUA). When
 * the secondary leaves the in-sync set, these regions go into its {@link DirtyRegions}, so that its
 * rejoin copies them too: after the host's next flush (which then reaches only the in-sync copies) a
 * write lost on that node would otherwise be missing from a copy that is "in sync" again, and a
 * failover to it would lose a write the host flushed.
 *
 * <p>Each region holds the {@link System#nanoTime()} at which the primary last saw a write to it
 * acknowledged by the secondary; a flush sent at time f and completed makes everything acknowledged
 * before f durable (NVMe: a Flush covers the writes that completed before it was submitted). No lock
 * and no allocation on the write path: one clock read and one compare-and-set per region a write
 * touches. At most {@value #MAX_REGIONS} regions, 512 KiB of memory per secondary whatever the volume's
 * size: larger volumes get larger regions (a 1 TiB volume of 4 KiB blocks 16 MiB ones, which is what a
 * power cut on the secondary then costs in copying per region written since the last flush), and writes
 * past the end of a volume that grew are kept as one "tail".
 */
final class UnflushedRegions {
    static final int MAX_REGIONS = 1 << 16;

    private final int regionBlocks;
    /** Times are kept as nanoseconds since just before this map was made: 0 is "never", and they compare plainly. */
    private final long origin = System.nanoTime() - 1;
    private final AtomicLongArray lastAcknowledged;
    /** When a write past the regions covered was last acknowledged (the volume grew); 0 if never. */
    private volatile long tailAcknowledged;
    /** Writes acknowledged before this time are durable on the secondary; 0 before the first flush. */
    private volatile long durableBefore;

    /** @param preferredRegionBlocks the dirty maps' region size, used when the volume is small enough for it */
    UnflushedRegions(long volumeBlocks, int preferredRegionBlocks) {
        long regionBlocks = Math.max(preferredRegionBlocks, (volumeBlocks + MAX_REGIONS - 1) / MAX_REGIONS);
        this.regionBlocks = (int) Math.min(Integer.MAX_VALUE, regionBlocks);
        this.lastAcknowledged = new AtomicLongArray((int) Math.max(1, (volumeBlocks + regionBlocks - 1) / regionBlocks));
    }

    /**
     * The secondary acknowledged a write or unmap (not durable yet) of {@code blocks} blocks at {@code lba},
     * seen by the primary at {@code atNanos} ({@link System#nanoTime()}, after this map was made).
     */
    void acknowledged(long lba, long blocks, long atNanos) {
        long at = atNanos - origin;
        long first = lba / regionBlocks;
        long last = (lba + blocks - 1) / regionBlocks;
        if (last >= lastAcknowledged.length()) {
            tailAcknowledged = at;
            last = lastAcknowledged.length() - 1;
        }
        for (long r = first; r <= last; r++) {
            int i = (int) r;
            long seen;
            do {
                seen = lastAcknowledged.get(i);
            } while (at > seen && !lastAcknowledged.compareAndSet(i, seen, at));
        }
    }

    /** A flush sent to the secondary at {@code sentNanos} ({@link System#nanoTime()}) completed there. */
    synchronized void flushed(long sentNanos) {
        durableBefore = Math.max(durableBefore, sentNanos - origin);
    }

    /** Marks in {@code dirty} every region whose writes the secondary may not have made durable. */
    void markNotDurable(DirtyRegions dirty, long volumeBlocks) {
        long durable = durableBefore;
        for (int r = 0; r < lastAcknowledged.length(); r++) {
            long at = lastAcknowledged.get(r);
            // 0: never written; an acknowledgement at the very instant the flush was sent may have come after it.
            if (at != 0 && at >= durable) {
                long start = (long) r * regionBlocks;
                dirty.mark(start, Math.min(regionBlocks, volumeBlocks - start));
            }
        }
        long tail = tailAcknowledged;
        long covered = (long) lastAcknowledged.length() * regionBlocks;
        if (tail != 0 && tail >= durable && volumeBlocks > covered) {
            dirty.mark(covered, volumeBlocks - covered);
        }
    }
}
