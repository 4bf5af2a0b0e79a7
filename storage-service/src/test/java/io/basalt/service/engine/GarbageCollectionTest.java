package io.basalt.service.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static io.basalt.service.engine.EngineHarness.BLOCK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A small drive filled to 80% of its capacity and overwritten at random for several passes: without
 * garbage collection the free segments would run out after the first pass.
 */
class GarbageCollectionTest {

    @Test
    void randomOverwritesAt80PercentKeepDataAndReclaimSegments(@TempDir Path dir) throws Exception {
        try (EngineHarness h = new EngineHarness(dir, 64L << 20, 1, 10_000, 16L << 20)) {
            long capacity = h.engine.capacityBytes();
            int blocks = (int) (capacity * 8 / 10 / BLOCK);
            int id = h.engine.createVolume(BLOCK, blocks, false);
            EngineVolume v = h.volume(id);
            long[] model = new long[blocks];
            long tag = 1;
            Window window = new Window(32);
            for (int lba = 0; lba < blocks; lba++) {
                model[lba] = tag++;
                window.add(EngineHarness.writeAsync(v, lba, new long[] {model[lba]}, false));
            }
            Random random = new Random(42);
            int passes = 3;
            for (long i = 0; i < (long) passes * blocks; i++) {
                int lba = random.nextInt(blocks);
                model[lba] = tag++;
                window.add(EngineHarness.writeAsync(v, lba, new long[] {model[lba]}, false));
            }
            window.drain();
            assertEquals(IoResult.OK, EngineHarness.flush(v));

            EngineCounters c = h.engine.counters();
            EngineStats stats = h.engine.stats();
            System.out.printf("GC at 80%%: host %d MiB, drive %d MiB, relocated %d MiB, write amplification %.2f, "
                            + "%d segments reclaimed, %d checkpoints, %d throttled episodes, %d of %d segments free%n",
                    c.hostBytesWritten() >> 20, c.driveBytesWritten() >> 20, c.relocatedBytes() >> 20,
                    c.writeAmplification(), c.segmentsReclaimed(), c.checkpoints(), c.throttledEpisodes(),
                    stats.freeSegments(), stats.segments());
            assertEquals(0, c.capacityErrors(), "no write may fail while garbage can be collected");
            assertTrue(c.segmentsReclaimed() > 0, "segments were reclaimed");
            assertTrue(c.relocatedBytes() > 0, "live blocks were relocated");
            assertTrue(stats.writeAmplification() > 1.0, "write amplification is reported: "
                    + stats.writeAmplification());
            assertEquals((long) blocks * BLOCK, stats.liveBytes(), "live bytes are exactly the volume's blocks");
            EngineHarness.verify(v, model, "after the overwrite passes");

            h.crashAndReopen();
            System.out.printf("recovery after GC: %d ms, %d batches (%d KiB) replayed%n", h.engine.recovery().millis(),
                    h.engine.recovery().replayedBatches(), h.engine.recovery().replayedBytes() >> 10);
            EngineHarness.verify(h.volume(id), model, "after a crash following garbage collection");
            assertEquals((long) blocks * BLOCK, h.engine.stats().liveBytes());

            // The recovered engine keeps collecting: one more pass.
            v = h.volume(id);
            for (int i = 0; i < blocks; i++) {
                int lba = random.nextInt(blocks);
                model[lba] = tag++;
                window.add(EngineHarness.writeAsync(v, lba, new long[] {model[lba]}, false));
            }
            window.drain();
            h.crashAndReopen();
            System.out.printf("recovery after another pass: %d ms, %d batches (%d KiB) replayed%n",
                    h.engine.recovery().millis(), h.engine.recovery().replayedBatches(),
                    h.engine.recovery().replayedBytes() >> 10);
            EngineHarness.verify(h.volume(id), model, "after another pass and a crash");
            h.reopen();
            EngineHarness.verify(h.volume(id), model, "after a clean reopen");
        }
    }

    /** At most {@code size} writes in flight; each must succeed. */
    static final class Window {
        private final int size;
        private final ArrayDeque<CompletableFuture<IoResult>> inFlight = new ArrayDeque<>();

        Window(int size) {
            this.size = size;
        }

        void add(CompletableFuture<IoResult> write) {
            inFlight.add(write);
            while (inFlight.size() >= size) {
                assertEquals(IoResult.OK, EngineHarness.await(inFlight.poll()), "write status");
            }
        }

        void drain() {
            while (!inFlight.isEmpty()) {
                assertEquals(IoResult.OK, EngineHarness.await(inFlight.poll()), "write status");
            }
        }
    }
}
