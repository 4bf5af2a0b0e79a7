package io.basalt.nvmetcp.nvmet;

import io.netty.util.concurrent.EventExecutor;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The node's data budget ({@link NodeDataBudget}) as the connections of one event loop take it: bytes
 * taken from the node in chunks and handed to this loop's commands from a field only this loop
 * writes, so that reserving a read's, an R2T's or an in-capsule write's bytes and returning them
 * touch no counter shared between cores (the node's is touched once per chunk). The node's limit
 * stays exact: a loop hands out only bytes it took. A loop keeps at most two chunks for no command,
 * and none while a queue waits for the node's budget or once it has no connection left.
 * <p>
 * Event loop only, but for {@link #idle()} (read from any thread) and {@link #giveBackIdleSoon()}.
 */
final class LoopDataBudget {
    private static final VarHandle IDLE;

    static {
        try {
            IDLE = MethodHandles.lookup().findVarHandle(LoopDataBudget.class, "idle", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final NodeDataBudget node;
    private final EventExecutor loop;
    private final long chunk;
    /** Bytes taken from the node and held by no command; written by the loop only, read by {@link #idle()}. */
    @SuppressWarnings("unused") // through IDLE
    private long idle;
    private int connections;
    private final Runnable giveBackIdle = this::giveBackIdle;

    LoopDataBudget(NodeDataBudget node, EventExecutor loop, long chunk) {
        this.node = node;
        this.loop = loop;
        this.chunk = chunk;
    }

    void connectionOpened() {
        connections++;
    }

    void connectionClosed() {
        if (--connections == 0) {
            giveBackIdle();
        }
    }

    /** Takes {@code bytes} for a command, from what this loop keeps or from the node; false if neither has them. */
    boolean tryReserve(long bytes) {
        long kept = (long) IDLE.getOpaque(this);
        if (kept < bytes) {
            long missing = bytes - kept;
            if (!node.hasWaiters() && node.tryReserve(missing + chunk)) {
                kept += missing + chunk;
            } else if (node.tryReserve(missing)) {
                kept += missing;
            } else {
                return false;
            }
        }
        IDLE.setOpaque(this, kept - bytes);
        return true;
    }

    /**
     * A command's bytes come back: kept for the next, up to two chunks, unless a queue waits for them
     * or the loop has no connection left (a read that completes after its connection closed).
     */
    void release(long bytes) {
        long kept = (long) IDLE.getOpaque(this) + bytes;
        if (connections == 0 || node.hasWaiters()) {
            IDLE.setOpaque(this, 0L);
            node.release(kept);
        } else if (kept > 2 * chunk) {
            IDLE.setOpaque(this, chunk);
            node.release(kept - chunk);
        } else {
            IDLE.setOpaque(this, kept);
        }
    }

    /** Any thread: has the loop give back what it keeps for no command, if it keeps anything. */
    void giveBackIdleSoon() {
        if (idle() > 0) {
            loop.execute(giveBackIdle);
        }
    }

    private void giveBackIdle() {
        long kept = (long) IDLE.getOpaque(this);
        if (kept > 0) {
            IDLE.setOpaque(this, 0L);
            node.release(kept);
        }
    }

    /** Bytes kept for no command; from another thread, as recently as the loop's last change shows. */
    long idle() {
        return (long) IDLE.getOpaque(this);
    }
}
