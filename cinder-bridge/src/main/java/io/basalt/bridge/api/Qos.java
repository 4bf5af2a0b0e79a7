package io.basalt.bridge.api;

/**
 * A volume's I/O limits, per second, shared by every host and connection of the volume; 0 means no
 * limit on that figure. Reads count against the read and total limits, writes (and Write Zeroes and
 * Deallocate, as commands without bytes) against the write and total limits; flushes are free.
 *
 * @param totalIops        commands per second, reads and writes together
 * @param readIops         read commands per second
 * @param writeIops        write commands per second
 * @param totalBytesPerSec bytes per second, read and written together
 * @param readBytesPerSec  bytes read per second
 * @param writeBytesPerSec bytes written per second
 * @param burstSeconds     seconds' worth of each limit that an idle volume saves up and may then spend
 *                         at full speed; 0 means the limits hold from the first command
 */
public record Qos(long totalIops, long readIops, long writeIops, long totalBytesPerSec, long readBytesPerSec,
                  long writeBytesPerSec, int burstSeconds) {
    /** No limits. */
    public static final Qos UNLIMITED = new Qos(0, 0, 0, 0, 0, 0, 0);
    /** The longest burst a volume may save up. */
    public static final int MAX_BURST_SECONDS = 3600;
}
