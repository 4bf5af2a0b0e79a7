package io.basalt.service.engine;

import io.basalt.service.engine.map.Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.basalt.service.engine.EngineHarness.BLOCK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Switching a volume's compression: blocks written after the change take the new form, blocks
 * written before keep theirs and still read back, and the change survives a crash (replayed from the
 * log), a clean restart (kept in the checkpoint) and the loss of the checkpoint (full scan).
 */
class CompressionChangeTest {

    @Test
    void aCompressionChangeAppliesToLaterWritesAndSurvivesEveryKindOfRestart(@TempDir Path dir) throws Exception {
        try (EngineHarness h = new EngineHarness(dir, 64L << 20)) {
            int id = h.engine.createVolume(BLOCK, 64, true);
            long[] model = new long[64];
            model[0] = 3; // tags divisible by 3 are compressible
            assertEquals(IoResult.OK, EngineHarness.write(h.volume(id), 0, 3));
            assertTrue(storedLength(h, id, 0) < BLOCK, "written while compression is on");

            h.engine.setCompression(id, false);
            model[1] = 6;
            assertEquals(IoResult.OK, EngineHarness.write(h.volume(id), 1, 6));
            assertEquals(BLOCK, storedLength(h, id, 1), "written after compression was switched off");
            assertTrue(storedLength(h, id, 0) < BLOCK, "a block written before keeps its form");

            h.crashAndReopen();
            assertOff(h, id, model, 2, "after a crash (the change replayed from the log)");
            h.reopen();
            assertOff(h, id, model, 3, "after a clean restart (the change kept in the checkpoint)");
            h.crashLoseCheckpointAndReopen();
            assertOff(h, id, model, 4, "after losing the checkpoint (full scan)");

            h.engine.setCompression(id, true);
            h.crashAndReopen();
            model[5] = 9;
            assertEquals(IoResult.OK, EngineHarness.write(h.volume(id), 5, 9));
            assertTrue(storedLength(h, id, 5) < BLOCK, "compressed again after switching it back on");
            EngineHarness.verify(h.volume(id), model, "at the end");
        }
    }

    /** The map says uncompressed, old blocks read back, and a new compressible block at lba is stored raw. */
    private static void assertOff(EngineHarness h, int id, long[] model, int lba, String when) {
        assertFalse(h.volume(id).map().compressed(), when);
        model[lba] = 3L * (lba + 10);
        assertEquals(IoResult.OK, EngineHarness.write(h.volume(id), lba, model[lba]));
        assertEquals(BLOCK, storedLength(h, id, lba), when + ": a new compressible block is stored raw");
        EngineHarness.verify(h.volume(id), model, when);
    }

    private static int storedLength(EngineHarness h, int id, long lba) {
        long[] entry = new long[2];
        h.volume(id).map().lookup(lba, entry);
        return Address.storedLength(entry[0]);
    }
}
