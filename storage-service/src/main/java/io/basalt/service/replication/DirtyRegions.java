package io.basalt.service.replication;

import java.util.Arrays;

/**
 * The regions of a volume written while one secondary was out of the in-sync set: one bit per region
 * of {@link #regionBlocks()} blocks, so a 1 TiB volume in 1 MiB regions costs 128 KiB whatever was
 * written. The region size is chosen for the volume's size when the map is made, so that the map never
 * holds more than {@link #MAX_BITS} bits; if the volume grows past what that many regions cover, writes
 * beyond are marked as one "tail", copied whole. It lives in the primary's memory only: a primary that restarts has lost it, and a secondary
 * that was out of sync then must be copied whole (every region dirty), see docs/cluster.md.
 *
 * <p>Marks come from write completions of any thread; the lock is taken only while a secondary is out
 * of sync, never on the path of a volume whose replicas are all in sync.
 */
final class DirtyRegions {
    /** 8 Mi bits: 1 MiB of memory at most per out-of-sync replica. */
    static final long MAX_BITS = 8L << 20;

    private final int regionBlocks;
    private long[] words;
    private long count;
    /** A write landed beyond the last region a map may track (the volume grew that much): copy that tail whole. */
    private boolean tailDirty;

    /** @param preferredRegionBlocks the region size when the volume is small enough for it */
    DirtyRegions(long volumeBlocks, int preferredRegionBlocks) {
        if (preferredRegionBlocks < 1 || volumeBlocks < 0) {
            throw new IllegalArgumentException("regions of " + preferredRegionBlocks + " blocks over " + volumeBlocks);
        }
        long needed = Math.max(preferredRegionBlocks, ceilDiv(volumeBlocks, MAX_BITS));
        if (needed > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("a volume of " + volumeBlocks + " blocks is too large to track");
        }
        this.regionBlocks = (int) needed;
        this.words = new long[(int) ceilDiv(ceilDiv(volumeBlocks, regionBlocks), 64)];
    }

    int regionBlocks() {
        return regionBlocks;
    }

    /** Marks every region that {@code blocks} blocks at {@code lba} touch. */
    synchronized void mark(long lba, long blocks) {
        if (blocks <= 0) {
            return;
        }
        long first = lba / regionBlocks;
        long last = (lba + blocks - 1) / regionBlocks;
        if (last >= MAX_BITS) {
            tailDirty = true;
            last = MAX_BITS - 1;
            if (first > last) {
                return;
            }
        }
        if (last / 64 >= words.length) {
            // The volume grew since this map was made; the map grows with it, up to MAX_BITS.
            words = Arrays.copyOf(words, (int) (last / 64 + 1));
        }
        for (long r = first; r <= last; r++) {
            long bit = 1L << (r & 63);
            int w = (int) (r >>> 6);
            if ((words[w] & bit) == 0) {
                words[w] |= bit;
                count++;
            }
        }
    }

    /** Marks every region of a volume of {@code volumeBlocks} blocks: a copy of everything. */
    void markAll(long volumeBlocks) {
        mark(0, volumeBlocks);
    }

    /** The first block past the regions a map tracks; everything from there is one "tail". */
    long tailStart() {
        return MAX_BITS * regionBlocks;
    }

    /** Clears and returns whether the tail was written; as for a region, the caller copies it afterwards. */
    synchronized boolean takeTail() {
        boolean dirty = tailDirty;
        tailDirty = false;
        return dirty;
    }

    /** Dirty regions now (the tail not counted). */
    synchronized long count() {
        return count;
    }

    /**
     * Clears and returns the first dirty region at or after {@code from}, or -1. The caller copies it
     * from the primary's copy read <em>after</em> this call; a write completing later marks it again.
     */
    synchronized long takeNext(long from) {
        for (int w = (int) (from >>> 6); w < words.length; w++) {
            long bits = w == from >>> 6 ? words[w] & (-1L << (from & 63)) : words[w];
            if (bits != 0) {
                long region = ((long) w << 6) + Long.numberOfTrailingZeros(bits);
                words[w] &= ~(1L << (region & 63));
                count--;
                return region;
            }
        }
        return -1;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
