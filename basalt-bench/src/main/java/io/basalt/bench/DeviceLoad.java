package io.basalt.bench;

import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes straight to a {@link BlockDevice}, no network: a closed loop of {@code depth} writes in
 * flight, issued from the calling thread, each slot refilled when its write completes (on whatever
 * thread the device completes it; a device may complete inline). Used to fill namespaces and for the
 * engine's write-amplification and compression measurements.
 */
final class DeviceLoad {
    /** A write that does not complete in this long means the device is stuck (the engine throttles for 10 s at most). */
    private static final long TIMEOUT_SECONDS = 60;

    /**
     * @param writes  writes completed (successfully or not)
     * @param errors  writes that failed; {@code firstStatus} is the first one's NVMe status
     * @param stopped why the load stopped before writing everything, or null
     */
    record Result(long writes, long bytes, double seconds, long errors, int firstStatus, String stopped) {
        double mbPerSecond() {
            return bytes / seconds / 1e6;
        }

        String errorText() {
            return (errors == 0 ? "" : errors + " writes failed (first: status 0x" + Integer.toHexString(firstStatus) + ")")
                    + (stopped == null ? "" : (errors == 0 ? "" : "; ") + "stopped " + stopped);
        }
    }

    private DeviceLoad() {
    }

    /**
     * Writes {@code totalBytes} in {@code ioSize} pieces of {@code data} (a pool whose size is a
     * multiple of {@code ioSize}) over the first {@code rangeBytes} of the device, at multiples of
     * {@code ioSize} that {@code skew} picks (in order from the start, wrapping around, or at random).
     */
    static Result write(BlockDevice device, ByteBuf data, int ioSize, int depth, Skew skew, long rangeBytes,
                        long totalBytes) throws InterruptedException {
        return write(device, data, ioSize, depth, skew, rangeBytes, totalBytes, Long.MAX_VALUE, Long.MAX_VALUE);
    }

    /**
     * As {@link #write(BlockDevice, ByteBuf, int, int, Skew, long, long)}, but stops issuing writes
     * after {@code maxSeconds} or once more than {@code maxErrors} writes failed (a device out of space
     * fails writes only after throttling them, which would make a run last for hours).
     */
    static Result write(BlockDevice device, ByteBuf data, int ioSize, int depth, Skew skew, long rangeBytes,
                        long totalBytes, long maxSeconds, long maxErrors) throws InterruptedException {
        int blockSize = device.blockSize();
        if (ioSize % blockSize != 0 || data.readableBytes() % ioSize != 0) {
            throw new IllegalArgumentException("I/O size " + ioSize + " does not fit block size " + blockSize);
        }
        long slots = Math.min(rangeBytes, device.blockCount() * blockSize) / ioSize;
        long total = totalBytes / ioSize;
        int poolSlots = data.readableBytes() / ioSize;
        Semaphore slotsFree = new Semaphore(depth);
        AtomicLong errors = new AtomicLong();
        AtomicInteger firstStatus = new AtomicInteger();
        long start = System.nanoTime();
        long deadline = maxSeconds == Long.MAX_VALUE ? Long.MAX_VALUE : start + TimeUnit.SECONDS.toNanos(maxSeconds);
        String stopped = null;
        long n = 0;
        for (; n < total; n++) {
            if (errors.get() > maxErrors) {
                stopped = "after " + errors.get() + " failed writes";
                break;
            }
            if (System.nanoTime() > deadline) {
                stopped = "at the time limit of " + maxSeconds + " s";
                break;
            }
            if (!slotsFree.tryAcquire(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no write completed for " + TIMEOUT_SECONDS + " s");
            }
            long slot = skew.pick(n, slots);
            ByteBuf src = data.slice((int) (n % poolSlots) * ioSize, ioSize);
            device.write(slot * ioSize / blockSize, ioSize / blockSize, src, false, status -> {
                if (status != 0 && errors.getAndIncrement() == 0) {
                    firstStatus.set(status);
                }
                slotsFree.release();
            });
        }
        if (!slotsFree.tryAcquire(depth, TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("writes did not complete in " + TIMEOUT_SECONDS + " s");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(n, n * ioSize, seconds, errors.get(), firstStatus.get(), stopped);
    }
}
