package io.basalt.service.dataplane;

/**
 * A volume's I/O limits, per second; 0 means no limit on that figure. Reads count against the read
 * and total limits, writes (and Write Zeroes and Deallocate, which move no data) against the write
 * and total limits. Flushes are never limited.
 *
 * @param totalIops         I/O commands per second, reads and writes together
 * @param readIops          read commands per second
 * @param writeIops         write commands per second
 * @param totalBytesPerSec  bytes per second, read and written together
 * @param readBytesPerSec   bytes read per second
 * @param writeBytesPerSec  bytes written per second
 * @param burstSeconds      how many seconds' worth of each limit an idle volume saves up and may spend
 *                          at full speed; 0 means none (the limit holds from the first command)
 */
public record QosLimits(long totalIops, long readIops, long writeIops, long totalBytesPerSec, long readBytesPerSec,
                        long writeBytesPerSec, int burstSeconds) {
    public static final QosLimits UNLIMITED = new QosLimits(0, 0, 0, 0, 0, 0, 0);
    /** Longest burst: an hour of saved-up credit is already more than any host's idle-then-busy cycle. */
    public static final int MAX_BURST_SECONDS = 3600;

    public QosLimits {
        if (totalIops < 0 || readIops < 0 || writeIops < 0 || totalBytesPerSec < 0 || readBytesPerSec < 0
                || writeBytesPerSec < 0 || burstSeconds < 0 || burstSeconds > MAX_BURST_SECONDS) {
            throw new IllegalArgumentException("QoS limits must be non-negative and bursts at most "
                    + MAX_BURST_SECONDS + " s: " + this);
        }
    }

    /** Whether no figure is limited, so I/O goes through without any accounting. */
    public boolean unlimited() {
        return totalIops == 0 && readIops == 0 && writeIops == 0 && totalBytesPerSec == 0 && readBytesPerSec == 0
                && writeBytesPerSec == 0;
    }
}
