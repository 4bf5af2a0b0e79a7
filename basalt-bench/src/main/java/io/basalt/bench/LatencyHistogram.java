package io.basalt.bench;

/**
 * Latencies in nanoseconds counted in log-linear buckets: 32 buckets per power of two, so a
 * percentile is within about 3% of the true value. Fixed size, no allocation when recording; one
 * instance per thread, merged at the end.
 */
final class LatencyHistogram {
    private static final int SUB_BITS = 5;
    private static final int SUB_BUCKETS = 1 << SUB_BITS;
    private static final int BUCKETS = (64 - SUB_BITS + 1) * SUB_BUCKETS;

    private final long[] counts = new long[BUCKETS];
    private long total;

    void record(long nanos) {
        counts[index(Math.max(0, nanos))]++;
        total++;
    }

    void add(LatencyHistogram other) {
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
    }

    long count() {
        return total;
    }

    /** The latency at or below which {@code fraction} of the recorded values lie (a bucket midpoint). */
    long percentile(double fraction) {
        if (total == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(fraction * total));
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return midpoint(i);
            }
        }
        return midpoint(BUCKETS - 1);
    }

    static int index(long value) {
        if (value < SUB_BUCKETS) {
            return (int) value;
        }
        int shift = 63 - Long.numberOfLeadingZeros(value) - SUB_BITS;
        int sub = (int) (value >>> shift) - SUB_BUCKETS;
        return (shift + 1) * SUB_BUCKETS + sub;
    }

    private static long midpoint(int index) {
        if (index < SUB_BUCKETS) {
            return index;
        }
        int shift = index / SUB_BUCKETS - 1;
        long low = (long) (SUB_BUCKETS + index % SUB_BUCKETS) << shift;
        return low + ((1L << shift) >> 1);
    }
}
