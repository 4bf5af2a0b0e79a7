package io.basalt.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.HashMap;
import java.util.Map;

/**
 * Heap bytes the in-process target allocates over a measured phase: what every thread of this process
 * allocated, except the built-in host's event loops (named {@link #HOST_THREADS}) and the thread that
 * runs the benchmark. Divided by the I/Os of the phase it is the target's garbage per I/O, the figure
 * that per-I/O allocation work is judged by. JVM service threads (JIT, JFR) add a little.
 */
final class TargetAllocation {
    /** Thread name prefix of the host's event loops, whose allocation is the load's, not the target's. */
    static final String HOST_THREADS = "bench-host";

    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private final Map<Long, Long> atStart;

    private TargetAllocation() {
        atStart = allocatedByThread();
    }

    /** Starts counting now. */
    static TargetAllocation start() {
        return new TargetAllocation();
    }

    /** Bytes allocated since {@link #start()} by the threads counted (those that ended meanwhile are lost). */
    long bytesSinceStart() {
        long bytes = 0;
        for (Map.Entry<Long, Long> now : allocatedByThread().entrySet()) {
            bytes += now.getValue() - atStart.getOrDefault(now.getKey(), 0L);
        }
        return bytes;
    }

    private Map<Long, Long> allocatedByThread() {
        long self = Thread.currentThread().threadId();
        Map<Long, Long> allocated = new HashMap<>();
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info == null || info.getThreadId() == self || info.getThreadName().startsWith(HOST_THREADS)) {
                continue;
            }
            long bytes = threads.getThreadAllocatedBytes(info.getThreadId());
            if (bytes >= 0) {
                allocated.put(info.getThreadId(), bytes);
            }
        }
        return allocated;
    }
}
