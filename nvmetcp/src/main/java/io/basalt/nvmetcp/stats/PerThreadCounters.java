package io.basalt.nvmetcp.stats;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A fixed set of counters kept per thread and merged when read, for statistics counted on the
 * per-I/O path: each thread that counts (an event loop, mostly) gets its own stripe on its first
 * count and from then on writes only that stripe, so no two cores ever write the same counter or
 * cache line and nothing is locked or compared-and-set per I/O, however many event loops a node
 * runs. A reader (a scrape, a log page) sums the stripes; it sees each counter of a stripe whole
 * but not the stripes at one instant, which counters that only grow allow.
 *
 * <p>Per I/O the cost is one {@link ThreadLocal} lookup and plain adds; the stripes live as long as
 * this object (one per thread that ever counted: the event loops, a bounded set).
 */
public final class PerThreadCounters {
    private static final VarHandle CELL = MethodHandles.arrayElementVarHandle(long[].class);
    /** Longs of padding after a stripe's counters, so two stripes never share a cache line. */
    private static final int PADDING = 8;

    private final int counters;
    private final List<long[]> stripes = new CopyOnWriteArrayList<>();
    private final ThreadLocal<long[]> own = ThreadLocal.withInitial(this::newStripe);

    /** @param counters how many counters, numbered from 0 */
    public PerThreadCounters(int counters) {
        if (counters < 1) {
            throw new IllegalArgumentException("counters must be positive: " + counters);
        }
        this.counters = counters;
    }

    /** The calling thread's stripe, for {@link #add}: fetch it once per I/O when several counters change. */
    public long[] stripe() {
        return own.get();
    }

    /**
     * Adds to a counter of {@code stripe}, which must be the calling thread's. Only this thread writes
     * the stripe, so a plain read and an opaque write (never torn, visible to readers soon) suffice.
     */
    public static void add(long[] stripe, int counter, long delta) {
        CELL.setOpaque(stripe, counter, stripe[counter] + delta);
    }

    /** Adds to a counter of the calling thread's stripe. */
    public void add(int counter, long delta) {
        add(own.get(), counter, delta);
    }

    /** A counter summed over every thread's stripe. */
    public long sum(int counter) {
        if (counter < 0 || counter >= counters) {
            throw new IndexOutOfBoundsException(counter);
        }
        long sum = 0;
        for (long[] stripe : stripes) {
            sum += (long) CELL.getOpaque(stripe, counter);
        }
        return sum;
    }

    /** How many threads have counted so far. */
    public int threads() {
        return stripes.size();
    }

    private long[] newStripe() {
        long[] stripe = new long[counters + PADDING];
        stripes.add(stripe);
        return stripe;
    }
}
