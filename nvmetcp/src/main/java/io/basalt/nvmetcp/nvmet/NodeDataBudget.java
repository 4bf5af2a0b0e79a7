package io.basalt.nvmetcp.nvmet;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The data bytes all connections of a target may hold at once ({@link ResourceLimits#nodeDataBytes()}).
 * A queue that finds the budget spent registers as a waiter and is woken, on its own event loop,
 * when bytes are returned.
 */
final class NodeDataBudget {
    private final long capacity;
    private final AtomicLong used = new AtomicLong();
    private final ConcurrentLinkedQueue<TargetQueue> waiters = new ConcurrentLinkedQueue<>();

    NodeDataBudget(long capacity) {
        this.capacity = capacity;
    }

    boolean tryReserve(long bytes) {
        long current;
        do {
            current = used.get();
            if (current + bytes > capacity) {
                return false;
            }
        } while (!used.compareAndSet(current, current + bytes));
        return true;
    }

    void release(long bytes) {
        used.addAndGet(-bytes);
        wakeWaiters();
    }

    /** Wakes {@code queue} once bytes are returned; checks again, so that a release just before is not missed. */
    void await(TargetQueue queue) {
        waiters.add(queue);
        if (used.get() < capacity) {
            wakeWaiters();
        }
    }

    private void wakeWaiters() {
        TargetQueue waiter;
        while ((waiter = waiters.poll()) != null) {
            waiter.nodeBudgetReturned();
        }
    }

    long used() {
        return used.get();
    }
}
