package io.basalt.bench;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Where a closed-loop writer puts each write among {@code slots} equal places: in order (wrapping
 * around), uniformly at random, or skewed, a share {@code hotWrites} of the writes going to the first
 * {@code hotShare} of the places (80/20: 80% of writes to 20% of the blocks) and the rest spread over
 * the others. Real workloads are skewed; uniform random overwrites are a log's worst case.
 *
 * @param label     how reports name it
 * @param hotWrites share of writes that go to the hot places; 1 with {@code hotShare} 1 is uniform
 * @param hotShare  share of the places that are hot
 */
record Skew(String label, double hotWrites, double hotShare) {
    static final Skew SEQUENTIAL = new Skew("sequential", 0, 0);
    static final Skew UNIFORM = new Skew("uniform", 1, 1);
    static final Skew HOT_80_20 = new Skew("80/20", 0.8, 0.2);
    static final Skew HOT_90_10 = new Skew("90/10", 0.9, 0.1);

    /** The place of the {@code n}-th write. */
    long pick(long n, long slots) {
        if (this == SEQUENTIAL) {
            return n % slots;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long hot = Math.max(1, Math.min(slots, (long) (slots * hotShare)));
        if (hot == slots || random.nextDouble() < hotWrites) {
            return random.nextLong(hot);
        }
        return hot + random.nextLong(slots - hot);
    }
}
