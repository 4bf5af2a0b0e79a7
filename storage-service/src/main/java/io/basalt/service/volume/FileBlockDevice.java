package io.basalt.service.volume;

import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.target.BlockDevice;
import io.basalt.nvmetcp.target.IoCallback;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A block device backed by one (sparse) file. Every file operation runs on the executor given,
 * never on the caller's thread, which is an event loop.
 *
 * <p>The executor must never interrupt its threads: an interrupted positional read or write closes
 * the whole channel.
 */
public final class FileBlockDevice implements BlockDevice, Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(FileBlockDevice.class);
    private static final int ZERO_CHUNK = 256 * 1024;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ZERO_CHUNK);
    private static final ThreadLocal<ByteBuffer> SCRATCH =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(ZERO_CHUNK));

    private final Path path;
    private final FileChannel channel;
    private final int blockSize;
    private final long blockCount;
    private final Executor executor;

    private FileBlockDevice(Path path, FileChannel channel, int blockSize, long blockCount, Executor executor) {
        this.path = path;
        this.channel = channel;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.executor = executor;
    }

    /** Opens an existing image whose length is a whole number of blocks. */
    public static FileBlockDevice open(Path path, int blockSize, Executor executor) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        long size = channel.size();
        if (size == 0 || size % blockSize != 0) {
            channel.close();
            throw new IOException("image " + path + " is " + size + " bytes, not a whole number of "
                    + blockSize + "-byte blocks");
        }
        return new FileBlockDevice(path, channel, blockSize, size / blockSize, executor);
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
        if (LbaRange.admit(lba, blocks, blockCount, callback)) {
            submit("read", Status.UNRECOVERED_READ_ERROR, callback, () -> readInto(dst, lba, blocks));
        }
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCallback callback) {
        if (LbaRange.admit(lba, blocks, blockCount, callback)) {
            submit("write", Status.WRITE_FAULT, callback, () -> {
                writeFrom(src, lba, blocks);
                if (fua) {
                    channel.force(false);
                }
            });
        }
    }

    @Override
    public void flush(IoCallback callback) {
        submit("flush", Status.WRITE_FAULT, callback, () -> channel.force(false));
    }

    @Override
    public void writeZeroes(long lba, int blocks, IoCallback callback) {
        if (LbaRange.admit(lba, blocks, blockCount, callback)) {
            submit("write zeroes", Status.WRITE_FAULT, callback, () -> zero(lba, blocks));
        }
    }

    /** Zeroes the range: Java cannot punch holes, but {@link #zero} keeps already-empty ranges sparse. */
    @Override
    public void deallocate(long lba, int blocks, IoCallback callback) {
        if (LbaRange.admit(lba, blocks, blockCount, callback)) {
            submit("deallocate", Status.WRITE_FAULT, callback, () -> zero(lba, blocks));
        }
    }

    /** Operations still queued or running fail with an error status once the channel is closed. */
    @Override
    public void close() throws IOException {
        channel.close();
    }

    private void readInto(ByteBuf dst, long lba, int blocks) throws IOException {
        int length = blocks * blockSize;
        long position = lba * blockSize;
        dst.ensureWritable(length);
        int start = dst.writerIndex();
        int done = 0;
        while (done < length) {
            int read = dst.setBytes(start + done, channel, position + done, length - done);
            if (read < 0) {
                throw new EOFException("image " + path + " ends before block " + (lba + blocks));
            }
            done += read;
        }
        dst.writerIndex(start + length);
    }

    private void writeFrom(ByteBuf src, long lba, int blocks) throws IOException {
        int length = blocks * blockSize;
        long position = lba * blockSize;
        int start = src.readerIndex();
        int done = 0;
        while (done < length) {
            done += src.getBytes(start + done, channel, position + done, length - done);
        }
    }

    /**
     * Writes zeros only over chunks that are not already zero, so that zeroing or deallocating a
     * never-written range (mkfs discards the whole device) does not allocate the sparse file.
     */
    private void zero(long lba, int blocks) throws IOException {
        long position = lba * blockSize;
        long end = position + (long) blocks * blockSize;
        ByteBuffer scratch = SCRATCH.get();
        while (position < end) {
            int length = (int) Math.min(ZERO_CHUNK, end - position);
            scratch.clear().limit(length);
            readFully(scratch, position);
            if (scratch.flip().mismatch(ZEROS.duplicate().limit(length)) != -1) {
                writeFully(ZEROS.duplicate().limit(length), position);
            }
            position += length;
        }
    }

    private void readFully(ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, position);
            if (read < 0) {
                throw new EOFException("image " + path + " ends at byte " + position);
            }
            position += read;
        }
    }

    private void writeFully(ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            position += channel.write(buffer, position);
        }
    }

    private void submit(String operation, int errorStatus, IoCallback callback, FileOperation work) {
        try {
            executor.execute(() -> callback.complete(run(operation, errorStatus, work)));
        } catch (RejectedExecutionException e) {
            LOG.error("{} on {} refused: the I/O executor is shut down", operation, path);
            callback.complete(errorStatus);
        }
    }

    private int run(String operation, int errorStatus, FileOperation work) {
        try {
            work.run();
            return Status.SUCCESS;
        } catch (IOException | RuntimeException e) {
            LOG.error("{} on {} failed", operation, path, e);
            return errorStatus;
        }
    }

    @FunctionalInterface
    private interface FileOperation {
        void run() throws IOException;
    }
}
