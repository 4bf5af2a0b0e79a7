package io.basalt.bench;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@link TargetThreadCosts} counts: the target's threads, not the host's event loops. */
class TargetThreadCostsTest {
    private static final int MIB = 1 << 20;
    private static final long TARGET_CPU_NANOS = 20_000_000L;
    private static final long HOST_ALLOCATION = 512L * MIB;

    /**
     * A target thread's CPU time and allocation are counted; a host thread's allocation, larger than
     * anything else in the process allocates meanwhile, is not. Shown failing with the CPU time left
     * out of the sum (0 ns counted) and with the host's threads counted (545 MB).
     */
    @Test
    void countsTheTargetsThreadsAndLeavesOutTheHosts() throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        CountDownLatch worked = new CountDownLatch(2);
        CountDownLatch counted = new CountDownLatch(1);
        TargetThreadCosts costs = TargetThreadCosts.start();
        // A thread that ended is no longer counted: both wait until the costs are read.
        Thread target = Thread.ofPlatform().name("target-worker").start(() -> {
            long start = mx.getCurrentThreadCpuTime();
            long sink = 0;
            // Runs 20 ms of CPU by its own clock (not the wall's) and allocates 8 MiB on the way.
            for (int i = 0; i < 8 || mx.getCurrentThreadCpuTime() - start < TARGET_CPU_NANOS; i++) {
                sink += i < 8 ? new byte[MIB].length : i % 7;
            }
            finish(worked, counted, sink);
        });
        Thread host = Thread.ofPlatform().name(TargetThreadCosts.HOST_THREADS + "-test").start(() -> {
            long sink = 0;
            for (long allocated = 0; allocated < HOST_ALLOCATION; allocated += MIB) {
                sink += new byte[MIB].length;
            }
            finish(worked, counted, sink);
        });
        worked.await();
        TargetThreadCosts.Spent spent = costs.sinceStart();
        counted.countDown();
        target.join();
        host.join();
        assertTrue(spent.cpuNanos() >= TARGET_CPU_NANOS, "CPU counted: " + spent.cpuNanos() + " ns");
        assertTrue(spent.allocatedBytes() >= 8L * MIB, "allocation counted: " + spent.allocatedBytes());
        assertTrue(spent.allocatedBytes() < HOST_ALLOCATION, "the host's allocation counted: " + spent.allocatedBytes());
    }

    private static void finish(CountDownLatch worked, CountDownLatch counted, long sink) {
        worked.countDown();
        try {
            counted.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (sink == 42) { // keeps the work from being optimised away
            throw new AssertionError();
        }
    }
}
