package io.basalt.bridge.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The running rebuild of a replaced drive, or the last one since the node started.
 *
 * @param drive          the drive being rebuilt
 * @param running        false once it finished, failed or stopped
 * @param percent        0 to 100
 * @param doneBytes      bytes of the drive's chunks rebuilt
 * @param totalBytes     bytes of the drive's chunks in all
 * @param bytesPerSecond the rate since it started (or resumed)
 * @param etaSeconds     seconds left at that rate; 0 when done, -1 when not known yet
 * @param error          why it stopped short; absent unless it did
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RebuildStatus(int drive, boolean running, double percent, long doneBytes, long totalBytes,
                            long bytesPerSecond, long etaSeconds, String error) {
}
