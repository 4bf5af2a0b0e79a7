package io.basalt.service.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * After every checkpoint on the drives is lost, the full scan rebuilds the maps and checkpoint numbers
 * start again at 1. The first new checkpoint takes a free segment, which may be one that held the lost
 * checkpoints: its new base record covers the old base exactly when both have the same size, and the
 * old delta after it is still intact, numbered 2, "after" the new base. Recovery must not take it for
 * the newest checkpoint: it holds the maps as of a log sequence from before the loss, from which the
 * replay stops at the first jump of the sequence and drops every write made since.
 *
 * <p>Without the check of log sequences in {@code CheckpointSegments.scan} this test fails with one
 * delta ("block 20 expected tag 2 found tag 0", the write after the full scan lost), and so did
 * {@code CompressionChangeTest} once checkpoints moved onto the drives.
 */
class StaleCheckpointRecordTest {
    @Test
    void aRecordLeftFromBeforeTheCheckpointsWereLostIsNeverRecoveredFrom(@TempDir Path dir) throws Exception {
        for (int deltas = 0; deltas <= 3; deltas++) {
            Path drives = Files.createDirectories(dir.resolve("deltas-" + deltas));
            try (EngineHarness h = new EngineHarness(drives, 64L << 20)) {
                int id = h.engine.createVolume(EngineHarness.BLOCK, 64, true);
                long[] model = new long[64];
                for (int i = 0; i < deltas; i++) {
                    model[i] = i + 1;
                    assertEquals(IoResult.OK, EngineHarness.write(h.volume(id), i, model[i]));
                    h.engine.checkpoint();
                }
                h.crashLoseCheckpointAndReopen();
                model[20] = 100;
                assertEquals(IoResult.OK, EngineHarness.write(h.volume(id), 20, model[20]));
                h.crashAndReopen();
                EngineHarness.verify(h.volume(id), model, deltas + " deltas before the loss");
            }
        }
    }
}
