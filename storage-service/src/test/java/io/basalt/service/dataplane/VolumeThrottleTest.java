package io.basalt.service.dataplane;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The token buckets on a clock the test moves: rates, bursts, reads against writes, no allocation. */
class VolumeThrottleTest {
    private static final long SECOND = 1_000_000_000L;
    private static final long START = 5 * SECOND;

    /** When the last of {@code commands} commands arriving together at START may run. */
    private static long lastStart(VolumeThrottle throttle, int commands, boolean write, long bytes) {
        long last = 0;
        for (int i = 0; i < commands; i++) {
            last = throttle.reserve(write, bytes, START);
        }
        return last;
    }

    @Test
    void anIopsLimitSpacesCommandsAtItsRate() {
        VolumeThrottle throttle = new VolumeThrottle(new QosLimits(1000, 0, 0, 0, 0, 0, 0), START);
        assertEquals(0, throttle.reserve(false, 4096, START), "the first command of an idle volume runs at once");
        assertEquals(SECOND / 1000, throttle.reserve(true, 4096, START));
        // 1000 commands at once: the last runs 999 ms later, so 1000 ran within a second.
        VolumeThrottle fresh = new VolumeThrottle(new QosLimits(1000, 0, 0, 0, 0, 0, 0), START);
        assertEquals(999 * SECOND / 1000, lastStart(fresh, 1000, false, 4096));
    }

    @Test
    void aBandwidthLimitChargesBytes() {
        VolumeThrottle throttle = new VolumeThrottle(new QosLimits(0, 0, 0, 1 << 20, 0, 0, 0), START);
        assertEquals(0, throttle.reserve(true, 128 << 10, START));
        // The first 128 KiB took an eighth of a second of a 1 MiB/s budget.
        assertEquals(SECOND / 8, throttle.reserve(true, 128 << 10, START));
    }

    @Test
    void anIdleVolumeSavesUpItsBurstAndNoMore() {
        VolumeThrottle throttle = new VolumeThrottle(new QosLimits(100, 0, 0, 0, 0, 0, 2), START);
        // Two seconds of credit: 200 commands run at once, plus the one any limit lets through at
        // once; the next waits its 10 ms.
        assertEquals(0, lastStart(throttle, 201, false, 512));
        assertEquals(SECOND / 100, throttle.reserve(false, 512, START));
        // An hour idle saves no more than the two seconds.
        long later = START + 3600 * SECOND;
        for (int i = 0; i < 201; i++) {
            assertEquals(0, throttle.reserve(false, 512, later));
        }
        assertEquals(SECOND / 100, throttle.reserve(false, 512, later));
    }

    @Test
    void aReadLimitDoesNotSlowWrites() {
        VolumeThrottle throttle = new VolumeThrottle(new QosLimits(0, 10, 0, 0, 0, 0, 0), START);
        long readWait = lastStart(throttle, 10, false, 4096);
        assertEquals(9 * SECOND / 10, readWait);
        assertEquals(0, lastStart(throttle, 1000, true, 4096), "writes have no limit");
    }

    @Test
    void readsAndWritesShareTheTotalInArrivalOrder() {
        VolumeThrottle throttle = new VolumeThrottle(new QosLimits(100, 0, 0, 0, 0, 0, 0), START);
        // A flood of writes arrived first; a read arriving after them waits behind them, no longer:
        // the total budget serves commands in arrival order, whatever their kind.
        lastStart(throttle, 50, true, 4096);
        assertEquals(50 * SECOND / 100, throttle.reserve(false, 4096, START));
        assertEquals(51 * SECOND / 100, throttle.reserve(true, 4096, START));
    }

    @Test
    void theLongestWaitOfTheBucketsACommandCountsAgainstWins() {
        // 1000 IOPS total, but 1 MiB/s of writes: 128 KiB writes are held to 8 per second.
        VolumeThrottle throttle = new VolumeThrottle(new QosLimits(1000, 0, 0, 0, 0, 1 << 20, 0), START);
        assertEquals(7 * SECOND / 8, lastStart(throttle, 8, true, 128 << 10));
    }

    @Test
    void limitsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new QosLimits(-1, 0, 0, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new QosLimits(0, 0, 0, 0, 0, 0, QosLimits.MAX_BURST_SECONDS + 1));
        assertTrue(QosLimits.UNLIMITED.unlimited());
    }

    @Test
    void reservingAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        VolumeThrottle throttle = new VolumeThrottle(new QosLimits(1000, 500, 500, 1 << 30, 1 << 29, 1 << 29, 1),
                START);
        long now = START;
        for (int i = 0; i < 100_000; i++) { // warm up: the JIT's own work is not the throttle's
            throttle.reserve((i & 1) == 0, 4096, now += 1000);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) {
            throttle.reserve((i & 1) == 0, 4096, now += 1000);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 1024, "100000 reservations allocated " + allocated + " bytes");
    }
}
