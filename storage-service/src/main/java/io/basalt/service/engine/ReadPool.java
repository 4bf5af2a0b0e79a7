package io.basalt.service.engine;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The threads that read blocks from the drives, so that a read which misses the page cache (or waits
 * for a slow drive) holds one of these threads, never an event loop. Bounded in threads and in queued
 * reads; what the target admits (queue depth times connections) is far below the queue's bound, so a
 * full queue means the drives stopped answering and the read fails rather than waiting unboundedly.
 */
final class ReadPool implements AutoCloseable {
    private static final int QUEUED_READS = 1 << 16;
    private final ThreadPoolExecutor executor;

    ReadPool(int threads) {
        this.executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUED_READS),
                Thread.ofPlatform().name("basalt-read-", 0).daemon(true).factory());
    }

    /** Runs the read on a pool thread; false if the pool is closed or saturated. */
    boolean submit(Runnable read) {
        try {
            executor.execute(read);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** Lets queued reads finish, then stops the threads. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
