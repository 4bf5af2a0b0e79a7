package io.basalt.service.engine.log;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decides, exactly once, whether a queued map change is carried out or cancelled: the writer starts
 * it, or the waiting caller cancels it, whichever comes first. So a caller that gave up knows the
 * change will never be applied, and one that could not cancel knows it will be.
 */
public final class ControlTicket {
    private static final int QUEUED = 0;
    private static final int STARTED = 1;
    private static final int CANCELLED = 2;
    private final AtomicInteger state = new AtomicInteger(QUEUED);

    /** The writer's claim; false if the caller cancelled first. */
    boolean start() {
        return state.compareAndSet(QUEUED, STARTED);
    }

    /** The caller's claim; false if the writer already started the change, which will then complete. */
    public boolean cancel() {
        return state.compareAndSet(QUEUED, CANCELLED);
    }
}
