package io.basalt.service.dataplane;

/**
 * The token buckets of one volume's {@link QosLimits}: one per limited figure, none for an unlimited
 * one. One throttle serves every host, queue and connection of the volume, so they share its budget;
 * each volume has its own, so a busy volume cannot spend another's.
 */
final class VolumeThrottle {
    private final QosLimits limits;
    private final TokenBucket totalIops;
    private final TokenBucket readIops;
    private final TokenBucket writeIops;
    private final TokenBucket totalBytes;
    private final TokenBucket readBytes;
    private final TokenBucket writeBytes;

    VolumeThrottle(QosLimits limits, long now) {
        this.limits = limits;
        int burst = limits.burstSeconds();
        totalIops = bucket(limits.totalIops(), burst, now);
        readIops = bucket(limits.readIops(), burst, now);
        writeIops = bucket(limits.writeIops(), burst, now);
        totalBytes = bucket(limits.totalBytesPerSec(), burst, now);
        readBytes = bucket(limits.readBytesPerSec(), burst, now);
        writeBytes = bucket(limits.writeBytesPerSec(), burst, now);
    }

    QosLimits limits() {
        return limits;
    }

    /**
     * Reserves a command's share of every bucket it counts against and answers how many nanoseconds
     * it must wait: the longest wait of those buckets (each bucket's own slot was taken, so the later
     * start only keeps it further under that bucket's rate).
     */
    long reserve(boolean write, long bytes, long now) {
        long delay = reserve(totalIops, 1, now);
        delay = Math.max(delay, reserve(totalBytes, bytes, now));
        if (write) {
            delay = Math.max(delay, reserve(writeIops, 1, now));
            return Math.max(delay, reserve(writeBytes, bytes, now));
        }
        delay = Math.max(delay, reserve(readIops, 1, now));
        return Math.max(delay, reserve(readBytes, bytes, now));
    }

    private static long reserve(TokenBucket bucket, long units, long now) {
        return bucket == null || units == 0 ? 0 : bucket.reserve(units, now);
    }

    private static TokenBucket bucket(long rate, int burstSeconds, long now) {
        return rate == 0 ? null : new TokenBucket(rate, burstSeconds, now);
    }
}
