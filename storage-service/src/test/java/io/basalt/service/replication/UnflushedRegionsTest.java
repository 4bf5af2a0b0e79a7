package io.basalt.service.replication;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class UnflushedRegionsTest {
    private static final int REGION_BLOCKS = 256;

    /** Only what was acknowledged since the last completed flush was sent may be lost; older writes are durable. */
    @Test
    void onlyWritesAcknowledgedSinceTheLastFlushWasSentAreMarked() {
        long volumeBlocks = 64L * REGION_BLOCKS;
        UnflushedRegions unflushed = new UnflushedRegions(volumeBlocks, REGION_BLOCKS);
        long before = System.nanoTime();
        unflushed.acknowledged(0, 1, before);
        unflushed.acknowledged(5L * REGION_BLOCKS, 2L * REGION_BLOCKS, before);
        unflushed.flushed(before + 1);
        unflushed.acknowledged(10L * REGION_BLOCKS + 7, 1, before + 2);

        DirtyRegions dirty = new DirtyRegions(volumeBlocks, REGION_BLOCKS);
        unflushed.markNotDurable(dirty, volumeBlocks);
        assertEquals(1, dirty.count());
        assertEquals(10, dirty.takeNext(0));
    }

    /**
     * A 1 TiB volume keeps at most {@link UnflushedRegions#MAX_REGIONS} times per secondary (512 KiB), so
     * its regions are 4,096 blocks: one unflushed write there marks 16 of the dirty map's 256-block regions
     * (shown failing with the earlier cap of 512 Ki regions: 2 marked).
     */
    @Test
    void aLargeVolumeKeepsAtMostMaxRegionsSoEachCoversMoreBlocks() {
        long volumeBlocks = 1L << 28;
        UnflushedRegions unflushed = new UnflushedRegions(volumeBlocks, REGION_BLOCKS);
        unflushed.acknowledged(volumeBlocks - 1, 1, System.nanoTime());

        DirtyRegions dirty = new DirtyRegions(volumeBlocks, REGION_BLOCKS);
        unflushed.markNotDurable(dirty, volumeBlocks);
        assertEquals(volumeBlocks / UnflushedRegions.MAX_REGIONS / REGION_BLOCKS, dirty.count());
        assertEquals(16, dirty.count());
    }

    /** A write past the regions the map was made for (the volume grew) marks everything past them. */
    @Test
    void writesPastTheRegionsOfAVolumeThatGrewMarkTheTail() {
        long madeFor = 4L * REGION_BLOCKS;
        UnflushedRegions unflushed = new UnflushedRegions(madeFor, REGION_BLOCKS);
        unflushed.acknowledged(6L * REGION_BLOCKS, 1, System.nanoTime());

        long grown = 8L * REGION_BLOCKS;
        DirtyRegions dirty = new DirtyRegions(grown, REGION_BLOCKS);
        unflushed.markNotDurable(dirty, grown);
        assertEquals(4, dirty.count(), "regions 4 to 7, the whole tail");
        assertEquals(4, dirty.takeNext(0));
    }
}
