package io.basalt.bench;

/**
 * One connection the load runs over. {@link #submit} may be called from any thread; the operation
 * completes through {@link Op#done} or {@link Op#failed} on the connection's event loop.
 */
interface BenchTransport extends AutoCloseable {
    void submit(Op op);

    @Override
    void close();
}
