package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.IoCallback;
import io.basalt.nvmetcp.nvmet.MemoryBlockDevice;
import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@link MemoryBlockDevice} of protocol tests. Every other operation completes on {@code completer}
 * instead of the calling event loop, so the target's hand-off of completions back to its queue's event
 * loop is exercised on every test. It counts flushes, and can hold writes (see {@link #holdWrites()}).
 */
public final class TestDevice implements BlockDevice {
    private final MemoryBlockDevice memory;
    private final Executor completer;
    private final AtomicLong operations = new AtomicLong();
    private final AtomicInteger flushes = new AtomicInteger();
    private volatile boolean holdWrites;
    /** Completions of held writes, oldest first; guarded by this. */
    private final List<Runnable> heldWrites = new ArrayList<>();

    public TestDevice(int blockSize, int blocks, Executor completer) {
        this.memory = new MemoryBlockDevice(blockSize, blocks);
        this.completer = completer;
    }

    public int flushes() {
        return flushes.get();
    }

    /**
     * From now on a write completes only when the test says so ({@link #completeOldestHeldWrite},
     * {@link #completeHeldWrites}): the writes a target handed to its device, and the data it holds for
     * them, stay until then.
     */
    public TestDevice holdWrites() {
        holdWrites = true;
        return this;
    }

    /** Writes handed to the device and not yet completed. */
    public synchronized int heldWrites() {
        return heldWrites.size();
    }

    public void completeOldestHeldWrite() {
        Runnable oldest;
        synchronized (this) {
            oldest = heldWrites.remove(0);
        }
        oldest.run();
    }

    public void completeHeldWrites() {
        List<Runnable> writes;
        synchronized (this) {
            writes = new ArrayList<>(heldWrites);
            heldWrites.clear();
        }
        writes.forEach(Runnable::run);
    }

    @Override
    public int blockSize() {
        return memory.blockSize();
    }

    @Override
    public long blockCount() {
        return memory.blockCount();
    }

    @Override
    public void read(long lba, int blocks, ByteBuf dst, IoCallback callback) {
        memory.read(lba, blocks, dst, completeOnEitherThread(callback));
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCallback callback) {
        IoCallback completion = completeOnEitherThread(callback);
        memory.write(lba, blocks, src, fua, holdWrites ? status -> hold(() -> completion.complete(status)) : completion);
    }

    @Override
    public void flush(IoCallback callback) {
        flushes.incrementAndGet();
        memory.flush(completeOnEitherThread(callback));
    }

    @Override
    public void writeZeroes(long lba, int blocks, IoCallback callback) {
        memory.writeZeroes(lba, blocks, completeOnEitherThread(callback));
    }

    @Override
    public void deallocate(long lba, int blocks, IoCallback callback) {
        memory.deallocate(lba, blocks, completeOnEitherThread(callback));
    }

    private synchronized void hold(Runnable completion) {
        heldWrites.add(completion);
    }

    /** Every other completion goes through {@code completer}, the rest stay on the calling thread. */
    private IoCallback completeOnEitherThread(IoCallback callback) {
        if ((operations.incrementAndGet() & 1) == 0) {
            return status -> completer.execute(() -> callback.complete(status));
        }
        return callback;
    }
}
