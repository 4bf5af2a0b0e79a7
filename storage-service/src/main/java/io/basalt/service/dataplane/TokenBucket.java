package io.basalt.service.dataplane;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One limit of a volume as a token bucket kept as a single time (the "theoretical arrival time" of
 * the generic cell rate algorithm): the instant at which everything admitted so far has been paid
 * for at the limit's rate. A command costs its units divided by the rate, in nanoseconds; it may
 * start once the bucket's time, less the saved-up burst, is not in the future. Every command
 * reserves its slot at once (one compare-and-set, no lock, no allocation), so commands are served
 * in the order they arrive, whichever host, queue or connection sent them.
 */
final class TokenBucket {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    /** Units (commands or bytes) per second; positive. */
    private final long rate;
    /** How far in the past an idle bucket's time may lag: the credit of a burst, in nanoseconds. */
    private final long burstNanos;
    private final AtomicLong paidUntil;

    TokenBucket(long rate, int burstSeconds, long now) {
        this.rate = rate;
        this.burstNanos = burstSeconds * NANOS_PER_SECOND;
        this.paidUntil = new AtomicLong(now - burstNanos);
    }

    /**
     * Reserves {@code units} for a command arriving at {@code now} (a {@link System#nanoTime()}) and
     * answers how many nanoseconds it must wait before it runs; 0 when it may run now.
     */
    long reserve(long units, long now) {
        long cost = cost(units);
        while (true) {
            long paid = paidUntil.get();
            // Idle time beyond the burst is not saved up.
            long start = Math.max(paid, now - burstNanos);
            if (paidUntil.compareAndSet(paid, start + cost)) {
                return Math.max(0, start - now);
            }
        }
    }

    /** Nanoseconds {@code units} take at the rate; exact up to units of 2^33 (8 GiB in one command). */
    private long cost(long units) {
        return units * NANOS_PER_SECOND / rate;
    }
}
