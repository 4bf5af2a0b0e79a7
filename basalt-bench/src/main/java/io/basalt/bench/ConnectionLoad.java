package io.basalt.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The closed-loop load on one connection: a fixed number of I/Os in flight, each started again from
 * its own completion (on the connection's event loop) until the run stops. Counts and latencies are
 * kept here, touched by that event loop only, and read once every I/O is idle.
 */
final class ConnectionLoad {
    private final BenchTransport transport;
    private final OffsetPattern pattern;
    private final Phase phase;
    private final CountDownLatch idle;
    private final Op[] ops;
    final LatencyHistogram latencies = new LatencyHistogram();
    long completed;
    long errors;
    String firstError;

    ConnectionLoad(BenchTransport transport, OffsetPattern pattern, Phase phase, CountDownLatch idle, int depth,
                   int ioSize, boolean writes) {
        this.transport = transport;
        this.pattern = pattern;
        this.phase = phase;
        this.idle = idle;
        this.ops = new Op[depth];
        for (int i = 0; i < depth; i++) {
            ByteBuf buffer = PooledByteBufAllocator.DEFAULT.directBuffer(ioSize, ioSize);
            if (writes) {
                byte[] data = new byte[ioSize];
                ThreadLocalRandom.current().nextBytes(data); // incompressible, as real data mostly is
                buffer.writeBytes(data);
            }
            ops[i] = new Op(this, buffer);
        }
    }

    void start() {
        for (Op op : ops) {
            issue(op);
        }
    }

    private void issue(Op op) {
        op.offset = pattern.next();
        op.startNanos = System.nanoTime();
        transport.submit(op);
    }

    void completed(Op op, int status) {
        int now = phase.current();
        if (status != 0) {
            error("status 0x" + Integer.toHexString(status));
            idle.countDown(); // a failing I/O is not retried
            return;
        }
        if (now == Phase.MEASURE) {
            latencies.record(System.nanoTime() - op.startNanos);
            completed++;
        }
        if (now == Phase.STOP) {
            idle.countDown();
        } else {
            issue(op);
        }
    }

    void failed(Op op, Exception cause) {
        error(cause.getMessage());
        idle.countDown();
    }

    private void error(String what) {
        if (errors++ == 0) {
            firstError = what;
        }
    }

    void release() {
        for (Op op : ops) {
            op.buffer.release();
        }
    }
}
