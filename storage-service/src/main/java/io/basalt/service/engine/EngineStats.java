package io.basalt.service.engine;

/**
 * Space and write statistics of the whole engine.
 *
 * @param capacityBytes     usable capacity: every segment but the garbage collector's reserve
 * @param liveBytes         bytes of live stored blocks (after compression), at most {@code capacityBytes}
 *                          (garbage collection may briefly use the reserve beyond it)
 * @param segments          segments on the drives
 * @param freeSegments      segments ready to be written
 * @param writeAmplification bytes written to drives per byte written by hosts
 * @param mappedBytes       logical bytes mapped by all maps together (a block shared by a volume and its
 *                          snapshot counts for both)
 * @param storedBytes       stored bytes those mappings reference, counted the same way
 */
public record EngineStats(long capacityBytes, long liveBytes, int segments, int freeSegments,
                          double writeAmplification, long mappedBytes, long storedBytes) {
    /** Logical bytes per stored byte over every map; 1.0 when nothing is stored. */
    public double compressionRatio() {
        return storedBytes == 0 ? 1.0 : (double) mappedBytes / storedBytes;
    }
}
