package io.basalt.nvmetcp.target;

import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBuf;

/** A synchronous in-memory block device for handler tests. */
final class MemoryDevice implements BlockDevice {
    private final byte[] bytes;
    private final int blockSize;

    MemoryDevice(int blockSize, int blocks) {
        this.blockSize = blockSize;
        this.bytes = new byte[blockSize * blocks];
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
        dst.writeBytes(bytes, (int) lba * blockSize, blocks * blockSize);
        callback.complete(Status.SUCCESS);
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCallback callback) {
        src.getBytes(src.readerIndex(), bytes, (int) lba * blockSize, blocks * blockSize);
        callback.complete(Status.SUCCESS);
    }

    @Override
    public void flush(IoCallback callback) {
        callback.complete(Status.SUCCESS);
    }

    @Override
    public void writeZeroes(long lba, int blocks, IoCallback callback) {
        java.util.Arrays.fill(bytes, (int) lba * blockSize, (int) (lba + blocks) * blockSize, (byte) 0);
        callback.complete(Status.SUCCESS);
    }

    @Override
    public void deallocate(long lba, int blocks, IoCallback callback) {
        writeZeroes(lba, blocks, callback);
    }
}
