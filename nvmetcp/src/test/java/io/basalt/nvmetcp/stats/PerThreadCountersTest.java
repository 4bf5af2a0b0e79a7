package io.basalt.nvmetcp.stats;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PerThreadCountersTest {

    /**
     * Threads counting at the same time each get a stripe of their own, and the merged figures are the
     * sums of what every thread counted, for every counter. Shown failing with {@link PerThreadCounters#sum}
     * reading only the first stripe (the merge left out): 1/8 of each total.
     */
    @Test
    void mergedFiguresAreTheSumOfEveryThreadsCounts() throws Exception {
        int threads = 8;
        int perThread = 100_000;
        PerThreadCounters counters = new PerThreadCounters(3);
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int bytes = 512 * (t + 1);
            running.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                for (int i = 0; i < perThread; i++) {
                    long[] mine = counters.stripe();
                    PerThreadCounters.add(mine, 0, 1);
                    PerThreadCounters.add(mine, 1, bytes);
                }
                counters.add(2, 7);
            }));
        }
        for (Thread t : running) {
            t.join();
        }
        assertEquals(threads, counters.threads());
        assertEquals((long) threads * perThread, counters.sum(0));
        assertEquals((long) perThread * 512 * (threads * (threads + 1) / 2), counters.sum(1));
        assertEquals(7L * threads, counters.sum(2));
    }

    @Test
    void aThreadKeepsItsOneStripe() {
        PerThreadCounters counters = new PerThreadCounters(1);
        counters.add(0, 5);
        counters.add(0, 6);
        assertEquals(1, counters.threads());
        assertEquals(11, counters.sum(0));
        assertThrows(IndexOutOfBoundsException.class, () -> counters.sum(1));
    }
}
