package io.basalt.service.volume;

import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.IoCallback;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A block device in direct memory, for benchmarks and tests. Memory is taken in chunks on first
 * write, so a large device costs only what is written. Operations are plain memory copies and
 * complete on the caller's thread.
 *
 * <p>{@link #close()} frees the memory: call it only once no I/O is in flight.
 */
public final class MemoryBlockDevice implements BlockDevice, AutoCloseable {
    private static final int CHUNK_SHIFT = 20;
    private static final int CHUNK_SIZE = 1 << CHUNK_SHIFT;

    private final int blockSize;
    private final long blockCount;
    private final AtomicReferenceArray<ByteBuf> chunks;

    public MemoryBlockDevice(int blockSize, long blockCount) {
        if (blockSize != 512 && blockSize != 4096) {
            throw new IllegalArgumentException("block size must be 512 or 4096, not " + blockSize);
        }
        long chunkCount = Math.ceilDiv(Math.multiplyExact(blockCount, blockSize), CHUNK_SIZE);
        if (blockCount <= 0 || chunkCount > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("unsupported block count " + blockCount);
        }
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.chunks = new AtomicReferenceArray<>((int) chunkCount);
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long blockCount() {
        return blockCount;
    }

    @Override
    public void read(long lba, int blocks, ByteBuf dst, IoCallback callback) {
        if (!LbaRange.admit(lba, blocks, blockCount, callback)) {
            return;
        }
        long position = lba * blockSize;
        long end = position + (long) blocks * blockSize;
        dst.ensureWritable(blocks * blockSize);
        while (position < end) {
            int offset = offsetInChunk(position);
            int length = lengthInChunk(position, end);
            ByteBuf chunk = chunks.get(chunkIndex(position));
            if (chunk == null) {
                dst.writeZero(length);
            } else {
                dst.writeBytes(chunk, offset, length);
            }
            position += length;
        }
        callback.complete(Status.SUCCESS);
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCallback callback) {
        if (!LbaRange.admit(lba, blocks, blockCount, callback)) {
            return;
        }
        long position = lba * blockSize;
        long end = position + (long) blocks * blockSize;
        int srcIndex = src.readerIndex();
        while (position < end) {
            int length = lengthInChunk(position, end);
            src.getBytes(srcIndex, chunkForWrite(chunkIndex(position)), offsetInChunk(position), length);
            srcIndex += length;
            position += length;
        }
        callback.complete(Status.SUCCESS);
    }

    @Override
    public void flush(IoCallback callback) {
        callback.complete(Status.SUCCESS);
    }

    @Override
    public void writeZeroes(long lba, int blocks, IoCallback callback) {
        if (!LbaRange.admit(lba, blocks, blockCount, callback)) {
            return;
        }
        long position = lba * blockSize;
        long end = position + (long) blocks * blockSize;
        while (position < end) {
            int offset = offsetInChunk(position);
            int length = lengthInChunk(position, end);
            ByteBuf chunk = chunks.get(chunkIndex(position));
            if (chunk != null) {
                chunk.setZero(offset, length);
            }
            position += length;
        }
        callback.complete(Status.SUCCESS);
    }

    /** Zeroes the range; chunks are kept, since a concurrent reader may be copying out of them. */
    @Override
    public void deallocate(long lba, int blocks, IoCallback callback) {
        writeZeroes(lba, blocks, callback);
    }

    @Override
    public void close() {
        for (int i = 0; i < chunks.length(); i++) {
            ByteBuf chunk = chunks.getAndSet(i, null);
            if (chunk != null) {
                chunk.release();
            }
        }
    }

    private static int chunkIndex(long position) {
        return (int) (position >>> CHUNK_SHIFT);
    }

    private static int offsetInChunk(long position) {
        return (int) (position & (CHUNK_SIZE - 1));
    }

    /** Bytes from {@code position} to {@code end} or to the end of its chunk, whichever is nearer. */
    private static int lengthInChunk(long position, long end) {
        return (int) Math.min(CHUNK_SIZE - offsetInChunk(position), end - position);
    }

    private ByteBuf chunkForWrite(int index) {
        ByteBuf chunk = chunks.get(index);
        if (chunk != null) {
            return chunk;
        }
        // Fresh direct memory is not zeroed; unwritten parts of a chunk must read as zeros.
        ByteBuf fresh = Unpooled.directBuffer(CHUNK_SIZE, CHUNK_SIZE).setZero(0, CHUNK_SIZE);
        if (chunks.compareAndSet(index, null, fresh)) {
            return fresh;
        }
        fresh.release();
        return chunks.get(index);
    }
}
