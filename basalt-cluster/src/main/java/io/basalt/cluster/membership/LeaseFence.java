package io.basalt.cluster.membership;

import java.time.Duration;

/**
 * Whether this node may still acknowledge writes as a volume's primary: only while its lease in etcd is
 * known to be alive, so that it has stopped before etcd can expire the lease, and so before another node
 * can be promoted in its place (a promotion requires the old primary's {@code members/} key, bound to
 * that lease, to be gone).
 *
 * <p>etcd measures a lease's TTL from when it handles a grant or keep-alive, which is after this node
 * sent it. So the lease lives at least until <em>send time + TTL</em>, as etcd's clock runs. The fence
 * holds until the send time of the last grant or keep-alive etcd answered, plus the TTL, minus a
 * margin of
 * <ul>
 * <li>one keep-alive interval: the time a write checked against the fence may still take to reach the
 * host (an event loop or GC stall between the check and the completion leaving), and so also the
 * guaranteed gap between the fence falling and the lease expiring;</li>
 * <li>{@value #DRIFT_PERCENT}% of the TTL for the rates of this node's and etcd's clocks differing
 * (quartz is within 0.01%, NTP slews at most 0.05%).</li>
 * </ul>
 * With the default TTL of 4 s: keep-alives every 1.33 s, margin 1.37 s, so the fence falls at most
 * 2.63 s after the last keep-alive that got through was sent. A healthy node renews it every keep-alive
 * interval (plus the call's time), well inside that window.
 *
 * <p>Only {@link System#nanoTime()} is used: wall-clock steps change nothing. {@link #mayAcknowledge()}
 * is one volatile read and one clock read, no allocation: a data path may call it for every write.
 * The membership's thread renews and drops it; any thread reads it.
 */
public final class LeaseFence {
    /** Allowance for this node's clock running slower than etcd's, in percent of the TTL. */
    static final int DRIFT_PERCENT = 1;

    private final long windowNanos;
    private final Duration margin;
    /** Until when (as {@link System#nanoTime()}) writes may be acknowledged; in the past while not held. */
    private volatile long deadlineNanos;

    /**
     * @param ttl               the lease's TTL, as granted
     * @param keepAliveInterval how often the node sends a keep-alive
     */
    public LeaseFence(Duration ttl, Duration keepAliveInterval) {
        this.margin = keepAliveInterval.plus(ttl.multipliedBy(DRIFT_PERCENT).dividedBy(100));
        if (margin.compareTo(ttl) >= 0) {
            throw new IllegalArgumentException("a keep-alive interval of " + keepAliveInterval.toMillis()
                    + " ms leaves no time for writes within a lease of " + ttl.toMillis() + " ms");
        }
        this.windowNanos = ttl.minus(margin).toNanos();
        this.deadlineNanos = System.nanoTime() - 1;
    }

    /** True while this node's lease is known to be alive with the margin to spare. */
    public boolean mayAcknowledge() {
        return System.nanoTime() - deadlineNanos < 0;
    }

    /** How much earlier than etcd's expiry of the lease the fence falls at the latest. */
    public Duration margin() {
        return margin;
    }

    /** The deadline as {@link System#nanoTime()}: the last answered grant or keep-alive's send time + TTL - margin. */
    public long deadlineNanos() {
        return deadlineNanos;
    }

    /** etcd answered a grant or keep-alive (with the lease alive) that this node sent at {@code sentNanos}. */
    void renewed(long sentNanos) {
        deadlineNanos = sentNanos + windowNanos;
    }

    /** The lease is gone or given up (etcd said so, the node leaves): no write is acknowledged from now on. */
    void dropped() {
        deadlineNanos = System.nanoTime() - 1;
    }
}
