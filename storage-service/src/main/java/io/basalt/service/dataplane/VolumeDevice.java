package io.basalt.service.dataplane;

import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.IoCallback;
import io.basalt.service.engine.BlockStore;
import io.basalt.service.engine.IoCompletion;
import io.basalt.service.engine.IoResult;
import io.basalt.service.engine.log.LogOp;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The data-plane volume layer: what a namespace of the target reads and writes. It checks what is
 * the volume's business (range, read-only, QoS budget; later ANA state) before anything reaches
 * the store, turns NVMe's Write Zeroes and Deallocate into the store's unmap, and maps every store
 * result to an NVMe status once, in {@link NvmeStatuses}. Below it is a {@link BlockStore}: the
 * engine's local volume today, a replicated store later.
 *
 * <p>QoS: a volume with limits has one {@link VolumeThrottle} that every namespace queue of every
 * host goes through. A command over budget is not refused and nothing sleeps: the scheduler hands it
 * to the store once its slot comes. A volume without limits pays one volatile read per command.
 */
public final class VolumeDevice implements BlockDevice {
    private final BlockStore store;
    private final boolean readOnly;
    /** Runs commands whose QoS slot is in the future; null for a device that is never limited. */
    private final ScheduledExecutorService delayed;
    /** Null while the volume has no limits. */
    private volatile VolumeThrottle throttle;
    private final LongAdder throttledNanos = new LongAdder();

    /** A device without QoS (benchmarks of the store, snapshots). */
    public VolumeDevice(BlockStore store, boolean readOnly) {
        this(store, readOnly, null);
    }

    /** @param delayed runs commands that wait for their QoS slot; shared by the node's volumes, never blocked */
    public VolumeDevice(BlockStore store, boolean readOnly, ScheduledExecutorService delayed) {
        this.store = store;
        this.readOnly = readOnly;
        this.delayed = delayed;
    }

    /**
     * Applies new limits from the next command on; commands already waiting keep their slot. The
     * buckets start full of their burst, as for an idle volume.
     */
    public void limits(QosLimits limits) {
        if (limits.unlimited()) {
            throttle = null;
            return;
        }
        if (delayed == null) {
            throw new IllegalStateException("this device was made without a scheduler and cannot be limited");
        }
        throttle = new VolumeThrottle(limits, System.nanoTime());
    }

    public QosLimits limits() {
        VolumeThrottle current = throttle;
        return current == null ? QosLimits.UNLIMITED : current.limits();
    }

    /** Total time commands of this volume waited for their QoS slot, in nanoseconds. */
    public long throttledNanos() {
        return throttledNanos.sum();
    }

    @Override
    public int blockSize() {
        return store.blockSize();
    }

    @Override
    public long blockCount() {
        return store.blockCount();
    }

    @Override
    public void read(long lba, int blocks, ByteBuf dst, IoCallback callback) {
        if (inRange(lba, blocks, callback)) {
            long delay = delay(false, (long) blocks * store.blockSize());
            IoCompletion done = completion(callback);
            if (delay == 0) {
                store.read(lba, blocks, dst, done);
            } else {
                later(delay, () -> store.read(lba, blocks, dst, done), callback);
            }
        }
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCallback callback) {
        if (writable(callback) && inRange(lba, blocks, callback)) {
            long delay = delay(true, (long) blocks * store.blockSize());
            IoCompletion done = completion(callback);
            if (delay == 0) {
                store.write(lba, blocks, src, fua, done);
            } else {
                later(delay, () -> store.write(lba, blocks, src, fua, done), callback);
            }
        }
    }

    @Override
    public void flush(IoCallback callback) {
        store.flush(completion(callback));
    }

    @Override
    public void writeZeroes(long lba, int blocks, IoCallback callback) {
        // Unmapped blocks read as zeros, so zeroing is unmapping: no data is written.
        deallocate(lba, blocks, callback);
    }

    @Override
    public void deallocate(long lba, int blocks, IoCallback callback) {
        if (writable(callback) && inRange(lba, blocks, callback)) {
            // Counts as a write command but moves no data: it spends IOPS, not bandwidth.
            long delay = delay(true, 0);
            IoCompletion done = completion(callback);
            if (delay == 0) {
                store.unmap(lba, blocks, done);
            } else {
                later(delay, () -> store.unmap(lba, blocks, done), callback);
            }
        }
    }

    /** Runs a throttled command when its slot comes; a node that is closing fails it instead. */
    private void later(long delayNanos, Runnable command, IoCallback callback) {
        try {
            delayed.schedule(command, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closing) {
            callback.complete(NvmeStatuses.of(IoResult.GONE));
        }
    }

    /** Nanoseconds the command must wait for its QoS slot (reserved now), 0 when it may run at once. */
    private long delay(boolean write, long bytes) {
        VolumeThrottle current = throttle;
        if (current == null) {
            return 0;
        }
        long delay = current.reserve(write, bytes, System.nanoTime());
        if (delay > 0) {
            throttledNanos.add(delay);
        }
        return delay;
    }

    private boolean writable(IoCallback callback) {
        if (readOnly) {
            callback.complete(Status.NAMESPACE_WRITE_PROTECTED | Status.DNR);
            return false;
        }
        return true;
    }

    private boolean inRange(long lba, int blocks, IoCallback callback) {
        if (lba < 0 || blocks < 0 || lba > store.blockCount() - blocks) {
            callback.complete(Status.LBA_OUT_OF_RANGE | Status.DNR);
            return false;
        }
        return true;
    }

    /**
     * The store's completion as an NVMe one: made once per command slot of the target and kept with
     * it ({@link IoCallback#adapter()}), so a command allocates none. Made on the submitting thread,
     * before a throttled command is handed to the scheduler.
     */
    private static IoCompletion completion(IoCallback callback) {
        if (callback.adapter() instanceof NvmeCompletion kept) {
            return kept;
        }
        NvmeCompletion made = new NvmeCompletion(callback);
        callback.adapter(made);
        return made;
    }

    /**
     * Completes {@code callback} with the NVMe status of the store's result. Serves its slot's commands
     * one at a time, so it also keeps the engine's write operation for them ({@link IoCompletion#keptWrite}).
     */
    private static final class NvmeCompletion implements IoCompletion {
        private final IoCallback callback;
        private LogOp.HostWrite keptWrite;

        NvmeCompletion(IoCallback callback) {
            this.callback = callback;
        }

        @Override
        public void done(IoResult result) {
            callback.complete(NvmeStatuses.of(result));
        }

        @Override
        public LogOp.HostWrite keptWrite() {
            return keptWrite;
        }

        @Override
        public void keepWrite(LogOp.HostWrite write) {
            keptWrite = write;
        }
    }
}
