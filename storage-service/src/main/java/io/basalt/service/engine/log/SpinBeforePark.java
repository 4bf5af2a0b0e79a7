package io.basalt.service.engine.log;

/**
 * Whether the log writer, out of work, should spin briefly before parking. Spinning pays when the next
 * operation comes within the spin (a queue-depth-one host on this node: the host's next write follows
 * the completion within microseconds), and saves a park/unpark pair on both sides. It costs when the
 * next operation comes later: a forwarded write on a replica or a write whose completion waits for a
 * network round trip to a secondary. The spin then never finds work and only takes the CPU from the
 * event loops that would bring it; on a machine with few cores that doubled the latency of a
 * replicated write (docs/benchmarks.md, "Replication: 1, 2 and 3 copies").
 *
 * <p>So after {@link #MISSES_TO_STOP} spins in a row that found no work the writer parks at once, and
 * tries a spin again only every {@link #PROBE_EVERY} waits, to notice when the load changes. Writer
 * thread only.
 */
final class SpinBeforePark {
    static final int MISSES_TO_STOP = 8;
    static final int PROBE_EVERY = 64;

    private int missesInARow;
    private int waitsWithoutSpin;

    /** Called once per wait for work: true to spin first, false to park at once. */
    boolean shouldSpin() {
        if (missesInARow < MISSES_TO_STOP) {
            return true;
        }
        if (++waitsWithoutSpin < PROBE_EVERY) {
            return false;
        }
        waitsWithoutSpin = 0;
        return true;
    }

    /** The outcome of a spin that {@link #shouldSpin} asked for. */
    void spun(boolean foundWork) {
        if (foundWork) {
            missesInARow = 0;
            waitsWithoutSpin = 0;
        } else if (missesInARow < MISSES_TO_STOP) {
            missesInARow++;
        }
    }
}
