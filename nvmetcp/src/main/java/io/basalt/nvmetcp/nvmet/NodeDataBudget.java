package io.basalt.nvmetcp.nvmet;

import io.netty.util.concurrent.EventExecutor;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The data bytes all connections of a target may hold at once ({@link ResourceLimits#nodeDataBytes()}).
 * Connections take them through the {@link LoopDataBudget} of their event loop, which takes them from
 * here in chunks, so that a command's reservation and return touch no counter another core writes. A
 * queue that finds the budget spent registers as a waiter and is woken, on its own event loop, when
 * bytes are returned; meanwhile the loops give back the bytes they hold for no command.
 */
final class NodeDataBudget {
    /** The loops' chunks: small beside the node's budget, so what loops keep for no command stays small. */
    private static final long LARGEST_CHUNK = 1 << 20;
    private static final int CHUNKS_PER_BUDGET = 256;

    private final long capacity;
    private final long chunk;
    /** Bytes taken by the loops: held by commands, or kept by a loop for its next ones. */
    private final AtomicLong used = new AtomicLong();
    private final ConcurrentLinkedQueue<TargetQueue> waiters = new ConcurrentLinkedQueue<>();
    private final ConcurrentHashMap<EventExecutor, LoopDataBudget> loops = new ConcurrentHashMap<>();

    NodeDataBudget(long capacity) {
        this.capacity = capacity;
        this.chunk = Math.min(LARGEST_CHUNK, Math.max(1, capacity / CHUNKS_PER_BUDGET));
    }

    /** The budget of {@code loop}'s connections: one per event loop, kept while the target lives. */
    LoopDataBudget forLoop(EventExecutor loop) {
        return loops.computeIfAbsent(loop, l -> new LoopDataBudget(this, l, chunk));
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

    boolean hasWaiters() {
        return !waiters.isEmpty();
    }

    /**
     * Wakes {@code queue} once bytes are returned, and has every loop that keeps bytes for no command
     * give them back; checks again, so that a release just before is not missed. Only a release, or
     * room for the {@code bytes} the queue waits for, wakes it: a queue whose command does not fit
     * is not woken again and again while nothing changes.
     */
    void await(TargetQueue queue, long bytes) {
        waiters.add(queue);
        for (LoopDataBudget loop : loops.values()) {
            loop.giveBackIdleSoon();
        }
        if (used.get() + bytes <= capacity) {
            wakeWaiters();
        }
    }

    private void wakeWaiters() {
        TargetQueue waiter;
        while ((waiter = waiters.poll()) != null) {
            waiter.nodeBudgetReturned();
        }
    }

    /** Bytes held by commands: what the loops took less what they keep for no command (exact when they are idle). */
    long used() {
        long idle = 0;
        for (LoopDataBudget loop : loops.values()) {
            idle += loop.idle();
        }
        return takenByLoops() - idle;
    }

    /** Bytes the loops took from the node's counter, held by commands or kept for the next ones. */
    long takenByLoops() {
        return used.get();
    }
}
