package io.basalt.service.dataplane;

import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.IoCallback;
import io.basalt.service.engine.BlockStore;
import io.basalt.service.engine.IoCompletion;
import io.netty.buffer.ByteBuf;

/**
 * The data-plane volume layer: what a namespace of the target reads and writes. It checks what is
 * the volume's business (range, read-only; later ANA state and QoS budgets) before anything reaches
 * the store, turns NVMe's Write Zeroes and Deallocate into the store's unmap, and maps every store
 * result to an NVMe status once, in {@link NvmeStatuses}. Below it is a {@link BlockStore}: the
 * engine's local volume today, a replicated store later.
 */
public final class VolumeDevice implements BlockDevice {
    private final BlockStore store;
    private final boolean readOnly;

    public VolumeDevice(BlockStore store, boolean readOnly) {
        this.store = store;
        this.readOnly = readOnly;
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
            store.read(lba, blocks, dst, completion(callback));
        }
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCallback callback) {
        if (writable(callback) && inRange(lba, blocks, callback)) {
            store.write(lba, blocks, src, fua, completion(callback));
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
            store.unmap(lba, blocks, completion(callback));
        }
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
     * The store's completion as an NVMe one. Built per command: a lambda capturing the callback is one
     * small short-lived object, which the young generation absorbs.
     */
    private static IoCompletion completion(IoCallback callback) {
        return result -> callback.complete(NvmeStatuses.of(result));
    }
}
