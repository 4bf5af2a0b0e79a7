package io.basalt.service.engine.log;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Readers' pins keep an emptied segment from being freed, whichever thread pinned it. */
class SegmentPinsTest {
    private static final int SEGMENT_SIZE = 1 << 20;

    /**
     * Two reader threads pin two emptied segments; neither is freed until its own reader unpins it, and
     * a segment nobody reads is freed at once. (With release() not asking the pins, the pinned
     * segments were freed while read.)
     */
    @Test
    void anEmptiedSegmentIsFreedOnlyOnceNoThreadReadsIt() throws Exception {
        SegmentTable table = new SegmentTable(4, SEGMENT_SIZE);
        table.rebuildFreeList(new int[4]);
        for (int i = 0; i < 3; i++) {
            int segment = table.open(i);
            table.seal(segment);
            table.emptied(segment, i);
        }
        ExecutorService readers = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch pinned = new CountDownLatch(2);
            CountDownLatch done = new CountDownLatch(1);
            Future<?> first = readers.submit(() -> read(table, 0, pinned, done));
            Future<?> second = readers.submit(() -> read(table, 1, pinned, done));
            assertTrue(pinned.await(10, TimeUnit.SECONDS));
            assertFalse(table.release(0), "read by the first reader");
            assertFalse(table.release(1), "read by the second reader");
            assertTrue(table.release(2), "read by nobody");
            assertEquals(SegmentTable.State.EMPTY, table.state(0));
            done.countDown();
            first.get(10, TimeUnit.SECONDS);
            second.get(10, TimeUnit.SECONDS);
            assertTrue(table.release(0));
            assertTrue(table.release(1));
            assertEquals(SegmentTable.State.FREE, table.state(1));
        } finally {
            readers.shutdownNow();
        }
    }

    /** A thread reads one segment at a time: a second pin or a wrong unpin is a bug, and says so. */
    @Test
    void aThreadHoldsOnePinAndUnpinsWhatItPinned() {
        SegmentTable table = new SegmentTable(4, SEGMENT_SIZE);
        table.pin(1);
        assertThrows(IllegalStateException.class, () -> table.pin(2));
        assertThrows(IllegalStateException.class, () -> table.unpin(2));
        table.unpin(1);
        table.pin(2);
        table.unpin(2);
    }

    private static void read(SegmentTable table, int segment, CountDownLatch pinned, CountDownLatch done) {
        table.pin(segment);
        try {
            pinned.countDown();
            done.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            table.unpin(segment);
        }
    }
}
