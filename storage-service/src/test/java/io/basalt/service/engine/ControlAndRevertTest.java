package io.basalt.service.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Map changes either happen or are cancelled, and a revert is one step for readers. */
class ControlAndRevertTest {

    /**
     * Before control tickets, a change that waited too long failed for the caller but stayed queued and
     * was applied later: here the volume would appear once the writer went on.
     */
    @Test
    void aChangeTheWriterDidNotStartInTimeIsCancelledAndNeverApplied(@TempDir Path dir) throws Exception {
        try (EngineHarness h = new EngineHarness(dir, 64L << 20)) {
            CountDownLatch release = new CountDownLatch(1);
            h.engine.onWriterForTest(() -> await(release));
            h.engine.controlStartMillis = 200;
            ControlCancelledException e = assertThrows(ControlCancelledException.class,
                    () -> h.engine.createVolume(EngineHarness.BLOCK, 256, false));
            assertTrue(e.getMessage().contains("nothing changed"), e.getMessage());
            release.countDown();
            h.engine.checkpoint();
            assertEquals(List.of(), h.engine.mapIds(), "the cancelled create was not applied");
            h.crashAndReopen();
            assertEquals(List.of(), h.engine.mapIds(), "nor logged");
        }
    }

    @Test
    void aChangeTheWriterStartedIsWaitedForEvenPastTheStartLimit(@TempDir Path dir) throws Exception {
        try (EngineHarness h = new EngineHarness(dir, 64L << 20)) {
            h.engine.controlStartMillis = 200;
            int id = h.engine.createVolume(EngineHarness.BLOCK, 256, false);
            assertEquals(List.of(id), h.engine.mapIds());
        }
    }

    /**
     * Before the directory swap, a revert dropped the volume's pages one by one and then shared the
     * snapshot's, so a read in between found no page and returned zeros.
     */
    @Test
    void readersNeverSeeZerosWhileAVolumeIsReverted(@TempDir Path dir) throws Exception {
        try (EngineHarness h = new EngineHarness(dir, 256L << 20)) {
            int blocks = 16 * 512;
            int id = h.engine.createVolume(EngineHarness.BLOCK, blocks, false);
            EngineVolume v = h.volume(id);
            long[] before = new long[blocks];
            long[] after = new long[blocks];
            for (int i = 0; i < blocks; i++) {
                before[i] = 1;
                after[i] = 2;
            }
            for (int lba = 0; lba < blocks; lba += 256) {
                assertEquals(IoResult.OK, EngineHarness.write(v, lba, java.util.Arrays.copyOfRange(before, lba, lba + 256)));
            }
            int snapshot = h.engine.cloneOf(id, blocks, false, true);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<String> seen = new AtomicReference<>();
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                Thread reader = Thread.ofPlatform().start(() -> {
                    IoResult[] status = new IoResult[1];
                    while (!stop.get() && seen.get() == null) {
                        int lba = ThreadLocalRandom.current().nextInt(blocks);
                        long tag = EngineHarness.tagOf(EngineHarness.read(v, lba, 1, status));
                        if (status[0] != IoResult.OK || (tag != 1 && tag != 2)) {
                            seen.compareAndSet(null, "block " + lba + " read " + status[0] + " with tag " + tag);
                        }
                    }
                });
                readers.add(reader);
            }
            for (int round = 0; round < 30 && seen.get() == null; round++) {
                for (int lba = 0; lba < blocks; lba += 2048) {
                    EngineHarness.write(v, lba, java.util.Arrays.copyOfRange(after, lba, lba + 2048));
                }
                h.engine.revert(id, snapshot);
            }
            stop.set(true);
            for (Thread reader : readers) {
                reader.join(10_000);
            }
            assertNull(seen.get());
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
