package io.basalt.service.volume;

import io.basalt.bridge.api.ScrubReport;
import io.basalt.service.engine.ScrubStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The engine's scrub status as {@code GET /api/v1/drives} shows it: every counter in its own field (distinct
 * values, so that two swapped fields show), the rate only while the scrub runs. Shown failing with
 * repairedChunks and repairedBytes swapped in NodeDrives.scrub.
 */
class NodeDrivesScrubTest {
    @Test
    void everyCounterOfTheScrubReachesItsField() {
        ScrubReport report = NodeDrives.scrub(new ScrubStatus(true, 32L << 20, 3, 5L << 30, 7, 11 * 1024, 2, List.of(13, 17)));
        assertEquals(new ScrubReport(true, 32L << 20, 3, 5L << 30, 7, 11 * 1024, 2, List.of(13, 17)), report);
    }

    @Test
    void aScrubThatStoppedShowsNoRateButKeepsItsCounts() {
        ScrubReport report = NodeDrives.scrub(new ScrubStatus(false, 32L << 20, 3, 5L << 30, 0, 0, 1, List.of(13)));
        assertEquals(new ScrubReport(false, 0, 3, 5L << 30, 0, 0, 1, List.of(13)), report);
    }
}
