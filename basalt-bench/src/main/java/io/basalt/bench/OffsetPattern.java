package io.basalt.bench;

/**
 * Byte offsets of one connection's I/Os within the working set, all multiples of the I/O size:
 * uniformly random (xorshift, no allocation), or sequential from the connection's own share of the
 * working set, wrapping around. Used on one event loop only.
 */
final class OffsetPattern {
    private final boolean random;
    private final int ioSize;
    private final long slots;
    private long state;
    private long next;

    OffsetPattern(boolean random, int ioSize, long workingSetBytes, int connection, int connections) {
        this.random = random;
        this.ioSize = ioSize;
        this.slots = Math.max(1, workingSetBytes / ioSize);
        this.state = 0x9E3779B97F4A7C15L * (connection + 1);
        this.next = slots / connections * connection;
    }

    long next() {
        long slot;
        if (random) {
            state ^= state << 13;
            state ^= state >>> 7;
            state ^= state << 17;
            slot = Long.remainderUnsigned(state, slots);
        } else {
            slot = next;
            next = next + 1 == slots ? 0 : next + 1;
        }
        return slot * ioSize;
    }
}
