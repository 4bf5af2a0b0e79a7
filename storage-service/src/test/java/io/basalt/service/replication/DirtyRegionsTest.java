package io.basalt.service.replication;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dirty map's arithmetic: regions touched, bounded size, taking regions in order, growth. */
class DirtyRegionsTest {
    @Test
    void marksEveryRegionARangeTouchesOnce() {
        DirtyRegions dirty = new DirtyRegions(64 * 200, 64);
        dirty.mark(63, 2); // regions 0 and 1
        dirty.mark(64 * 63, 64 * 2 + 1); // regions 63, 64 (across a word) and 65
        dirty.mark(10, 1); // region 0 again
        assertEquals(5, dirty.count());
        assertEquals(List.of(0L, 1L, 63L, 64L, 65L), drain(dirty));
        assertEquals(0, dirty.count());
    }

    @Test
    void aLargeVolumeGetsLargerRegionsSoTheMapStaysBounded() {
        long blocks = 1L << 40 >> 12; // 1 TiB of 4 KiB blocks
        DirtyRegions dirty = new DirtyRegions(blocks, 1);
        assertEquals(blocks / DirtyRegions.MAX_BITS, dirty.regionBlocks());
        dirty.markAll(blocks);
        assertEquals(DirtyRegions.MAX_BITS, dirty.count());
    }

    @Test
    void theMapGrowsWithTheVolume() {
        DirtyRegions dirty = new DirtyRegions(64, 64);
        dirty.mark(64 * 1000, 1);
        assertEquals(List.of(1000L), drain(dirty));
    }

    /**
     * A volume that grew past what the map's regions cover: writes there mark the tail instead of
     * failing the write's completion (shown failing, an exception from mark, with the earlier throw).
     */
    @Test
    void writesBeyondTheLastTrackedRegionMarkTheTail() {
        DirtyRegions dirty = new DirtyRegions(64, 1);
        long tail = dirty.tailStart();
        dirty.mark(tail - 1, 3); // the last region and the tail
        dirty.mark(tail + 1000, 1);
        assertEquals(List.of(DirtyRegions.MAX_BITS - 1), drain(dirty));
        assertTrue(dirty.takeTail());
        assertFalse(dirty.takeTail(), "taken");
    }

    private static List<Long> drain(DirtyRegions dirty) {
        List<Long> regions = new ArrayList<>();
        for (long r = dirty.takeNext(0); r >= 0; r = dirty.takeNext(r + 1)) {
            regions.add(r);
        }
        return regions;
    }
}
