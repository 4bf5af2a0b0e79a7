package io.basalt.attach.nbd;

import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.IoCallback;
import io.basalt.nvmetcp.nvmet.MemoryBlockDevice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A namespace's storage in memory ({@link MemoryBlockDevice}), which outlives the targets that serve
 * it in a test, and can be told to fail writes the way a worn-out drive does.
 */
final class NamespaceMemory implements BlockDevice {
    private final MemoryBlockDevice memory;
    private final AtomicInteger writeFaults = new AtomicInteger();

    NamespaceMemory(int blockSize, int blocks) {
        this.memory = new MemoryBlockDevice(blockSize, blocks);
    }

    /** A copy of {@code length} bytes at {@code offset}, both multiples of the block size. */
    byte[] contents(int offset, int length) {
        ByteBuf copy = Unpooled.buffer(length);
        memory.read(offset / blockSize(), length / blockSize(), copy, status -> {
            if (status != Status.SUCCESS) {
                throw new IllegalArgumentException("no " + length + " bytes at " + offset + ": status " + status);
            }
        });
        return ByteBufUtil.getBytes(copy);
    }

    /** The next {@code count} writes complete with Write Fault and change nothing. */
    void failWrites(int count) {
        writeFaults.set(count);
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
        memory.read(lba, blocks, dst, callback);
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCallback callback) {
        if (writeFaults.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            callback.complete(Status.WRITE_FAULT);
            return;
        }
        memory.write(lba, blocks, src, fua, callback);
    }

    @Override
    public void flush(IoCallback callback) {
        memory.flush(callback);
    }

    @Override
    public void writeZeroes(long lba, int blocks, IoCallback callback) {
        memory.writeZeroes(lba, blocks, callback);
    }

    @Override
    public void deallocate(long lba, int blocks, IoCallback callback) {
        memory.deallocate(lba, blocks, callback);
    }
}
