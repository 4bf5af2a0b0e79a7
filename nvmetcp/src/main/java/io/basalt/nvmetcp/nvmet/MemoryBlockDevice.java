package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A block device in direct memory, like SPDK's malloc bdev: the one in-memory device of the benchmark
 * tool and of every module's tests (which wrap it to add what they need, such as completions on
 * another thread or injected write faults). Memory is taken in chunks on first write, so a large
 * device costs only what is written; the chunks are plain direct {@link ByteBuffer}s, freed by the
 * garbage collector with the device, so a device needs no closing. Operations are plain memory copies
 * and complete on the caller's thread.
 */
public final class MemoryBlockDevice implements BlockDevice {
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
        if (!admit(lba, blocks, callback)) {
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
        if (!admit(lba, blocks, callback)) {
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
        if (!admit(lba, blocks, callback)) {
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

    /** True if the range lies within the device; otherwise completes the command as LBA Out of Range. */
    private boolean admit(long lba, int blocks, IoCallback callback) {
        if (lba < 0 || blocks < 0 || lba > blockCount - blocks) {
            callback.complete(Status.LBA_OUT_OF_RANGE);
            return false;
        }
        return true;
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
        // allocateDirect zeroes the chunk (unwritten parts read as zeros); a chunk that lost the race
        // is garbage like any other.
        ByteBuf fresh = Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(CHUNK_SIZE));
        return chunks.compareAndSet(index, null, fresh) ? fresh : chunks.get(index);
    }
}
