package io.basalt.service.engine;

import java.util.List;

/**
 * What the engine's scrub has done since the engine started (see docs/storage-engine.md, "Scrub").
 *
 * @param running              whether the background scrub runs
 * @param bytesPerSecond       its rate limit, 0 when it was never started
 * @param passes               passes finished over every sealed segment
 * @param scannedBytes         bytes of segments checked
 * @param repairedChunks       damaged chunks rewritten from the other drives' chunks (one per chunk and pass)
 * @param repairedBytes        bytes of those chunks rewritten
 * @param unrepairableFound    segments found damaged beyond repair, counted once per pass that found them
 * @param unrepairableSegments the segments the last finished pass found damaged beyond repair
 */
public record ScrubStatus(boolean running, long bytesPerSecond, long passes, long scannedBytes, long repairedChunks,
                          long repairedBytes, long unrepairableFound, List<Integer> unrepairableSegments) {
    public ScrubStatus {
        unrepairableSegments = List.copyOf(unrepairableSegments);
    }
}
