package io.basalt.attach.nbd;

import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.IoCallback;
import io.netty.buffer.ByteBuf;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A namespace's storage in memory, which outlives the targets that serve it in a test, and can be told
 * to fail writes the way a worn-out drive does.
 */
final class MemoryBlockDevice implements BlockDevice {
    private final int blockSize;
    private final byte[] bytes;
    private final AtomicInteger writeFaults = new AtomicInteger();

    MemoryBlockDevice(int blockSize, int blocks) {
        this.blockSize = blockSize;
        this.bytes = new byte[blockSize * blocks];
    }

    /** A copy of {@code length} bytes at {@code offset}. */
    byte[] contents(int offset, int length) {
        synchronized (bytes) {
            return Arrays.copyOfRange(bytes, offset, offset + length);
        }
    }

    /** The next {@code count} writes complete with Write Fault and change nothing. */
    void failWrites(int count) {
        writeFaults.set(count);
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
        callback.complete(Status.SUCCESS);
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCallback callback) {
        if (writeFaults.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            callback.complete(Status.WRITE_FAULT);
            return;
        }
        synchronized (bytes) {
            src.getBytes(src.readerIndex(), bytes, offset(lba), blocks * blockSize);
        }
        callback.complete(Status.SUCCESS);
    }

    @Override
    public void flush(IoCallback callback) {
        callback.complete(Status.SUCCESS);
    }

    @Override
    public void writeZeroes(long lba, int blocks, IoCallback callback) {
        synchronized (bytes) {
            Arrays.fill(bytes, offset(lba), offset(lba) + blocks * blockSize, (byte) 0);
        }
        callback.complete(Status.SUCCESS);
    }

    @Override
    public void deallocate(long lba, int blocks, IoCallback callback) {
        writeZeroes(lba, blocks, callback);
    }

    private int offset(long lba) {
        return Math.toIntExact(lba * blockSize);
    }
}
