package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.IoCallback;
import io.netty.buffer.ByteBuf;

import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-memory block device for protocol tests. Every other operation completes on {@code completer}
 * instead of the calling event loop, so the target's hand-off of completions back to its queue's event
 * loop is exercised on every test. It counts flushes.
 */
public final class TestDevice implements BlockDevice {
    private final int blockSize;
    private final byte[] bytes;
    private final Executor completer;
    private final AtomicLong operations = new AtomicLong();
    private final AtomicInteger flushes = new AtomicInteger();

    public TestDevice(int blockSize, int blocks, Executor completer) {
        this.blockSize = blockSize;
        this.bytes = new byte[blockSize * blocks];
        this.completer = completer;
    }

    public int flushes() {
        return flushes.get();
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long blockCount() {
        return bytes.length / blockSize;
    }

    @Override
    public void read(long lba, int blocks, ByteBuf dst, IoCallback callback) {
        synchronized (bytes) {
            dst.writeBytes(bytes, offset(lba), blocks * blockSize);
        }
        complete(callback);
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCallback callback) {
        synchronized (bytes) {
            src.getBytes(src.readerIndex(), bytes, offset(lba), blocks * blockSize);
        }
        complete(callback);
    }

    @Override
    public void flush(IoCallback callback) {
        flushes.incrementAndGet();
        complete(callback);
    }

    @Override
    public void writeZeroes(long lba, int blocks, IoCallback callback) {
        synchronized (bytes) {
            Arrays.fill(bytes, offset(lba), offset(lba) + blocks * blockSize, (byte) 0);
        }
        complete(callback);
    }

    @Override
    public void deallocate(long lba, int blocks, IoCallback callback) {
        writeZeroes(lba, blocks, callback);
    }

    private int offset(long lba) {
        return Math.toIntExact(lba * blockSize);
    }

    private void complete(IoCallback callback) {
        if ((operations.incrementAndGet() & 1) == 0) {
            completer.execute(() -> callback.complete(Status.SUCCESS));
        } else {
            callback.complete(Status.SUCCESS);
        }
    }
}
