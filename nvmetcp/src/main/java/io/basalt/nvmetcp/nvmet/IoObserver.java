package io.basalt.nvmetcp.nvmet;

/**
 * Told of every completed I/O command of a namespace, on the queue's event loop. Used for metrics;
 * it must be cheap and must not allocate.
 */
@FunctionalInterface
public interface IoObserver {
    IoObserver NONE = (opcode, bytes, nanos, status) -> { };

    void completed(int opcode, long bytes, long latencyNanos, int status);
}
