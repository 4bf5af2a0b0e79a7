package io.basalt.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.HashMap;
import java.util.Map;

/**
 * Heap bytes and CPU time the in-process target spends over a measured phase: what every thread of
 * this process allocated and ran, except the built-in host's event loops (named {@link #HOST_THREADS})
 * and the thread that runs the benchmark. Divided by the I/Os of the phase they are the target's
 * garbage and CPU per I/O: the figures that per-I/O work is judged by, and on a machine shared with
 * other work far steadier than IOPS (CPU time counts only while a thread runs, not while it waits for
 * a core). JVM service threads (JIT, JFR) add a little; the garbage collector's threads are not counted.
 */
final class TargetThreadCosts {
    /** Thread name prefix of the host's event loops, whose costs are the load's, not the target's. */
    static final String HOST_THREADS = "bench-host";

    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private final Map<Long, Costs> atStart;

    /** What one thread had allocated and run when looked at. */
    private record Costs(long allocatedBytes, long cpuNanos) {
    }

    /** What the counted threads spent since {@link #start()} (those that ended meanwhile are lost). */
    record Spent(long allocatedBytes, long cpuNanos) {
    }

    private TargetThreadCosts() {
        atStart = costsByThread();
    }

    /** Starts counting now. */
    static TargetThreadCosts start() {
        return new TargetThreadCosts();
    }

    Spent sinceStart() {
        long bytes = 0;
        long cpu = 0;
        for (Map.Entry<Long, Costs> now : costsByThread().entrySet()) {
            Costs before = atStart.getOrDefault(now.getKey(), new Costs(0, 0));
            bytes += now.getValue().allocatedBytes() - before.allocatedBytes();
            cpu += now.getValue().cpuNanos() - before.cpuNanos();
        }
        return new Spent(bytes, cpu);
    }

    private Map<Long, Costs> costsByThread() {
        long self = Thread.currentThread().threadId();
        Map<Long, Costs> costs = new HashMap<>();
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info == null || info.getThreadId() == self || info.getThreadName().startsWith(HOST_THREADS)) {
                continue;
            }
            long bytes = threads.getThreadAllocatedBytes(info.getThreadId());
            long cpu = threads.getThreadCpuTime(info.getThreadId());
            if (bytes >= 0 && cpu >= 0) {
                costs.put(info.getThreadId(), new Costs(bytes, cpu));
            }
        }
        return costs;
    }
}
