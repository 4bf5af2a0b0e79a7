package io.basalt.bridge.api;

import java.util.List;

/**
 * What the node's background scrub has done since the node started (docs/storage-engine.md, "Scrub"),
 * as {@code GET /api/v1/drives} shows it.
 *
 * @param running              whether the scrub runs ({@code engine.scrub-bytes-per-second} set)
 * @param bytesPerSecond       its rate limit; 0 when it is off
 * @param passes               passes finished over every sealed segment
 * @param scannedBytes         bytes of segments checked
 * @param repairedChunks       damaged chunks rewritten from the other drives' chunks (one per chunk and pass)
 * @param repairedBytes        bytes of those chunks rewritten
 * @param unrepairableFound    segments found damaged beyond repair, counted once per pass that found them
 * @param unrepairableSegments the segments the last finished pass found damaged beyond repair
 */
public record ScrubReport(boolean running, long bytesPerSecond, long passes, long scannedBytes, long repairedChunks,
                          long repairedBytes, long unrepairableFound, List<Integer> unrepairableSegments) {
    public ScrubReport {
        unrepairableSegments = List.copyOf(unrepairableSegments);
    }
}
