package io.netty.buffer;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the leaks Netty's detector reports for every {@link ByteBuf}, so that a test can fail on
 * them instead of leaving them to a log line. In Netty's package because the buffers' detector is
 * package-private there.
 */
public final class LeakReports {
    private static final AtomicInteger LEAKS = new AtomicInteger();

    static {
        AbstractByteBuf.leakDetector.setLeakListener((resourceType, records) -> LEAKS.incrementAndGet());
    }

    private LeakReports() {
    }

    /**
     * Leaks reported so far. A leak is reported only when the garbage collector has found the lost
     * buffer and a later allocation polls for it, so this collects and allocates first.
     */
    public static int count() throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            System.gc();
            Thread.sleep(50); // the reference handler thread queues what the collector found
            for (int i = 0; i < 64; i++) {
                PooledByteBufAllocator.DEFAULT.directBuffer(16).release();
                PooledByteBufAllocator.DEFAULT.heapBuffer(16).release();
            }
        }
        return LEAKS.get();
    }
}
