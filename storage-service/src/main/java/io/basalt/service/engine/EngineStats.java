package io.basalt.service.engine;

/**
 * Space and write statistics of the whole engine.
 *
 * @param capacityBytes     usable capacity: every segment but the garbage collector's reserve
 * @param liveBytes         bytes of live stored blocks (after compression)
 * @param segments          segments on the drives
 * @param freeSegments      segments ready to be written
 * @param writeAmplification bytes written to drives per byte written by hosts
 */
public record EngineStats(long capacityBytes, long liveBytes, int segments, int freeSegments,
                          double writeAmplification) {
}
