package io.basalt.nvmetcp.nvmet;

import io.netty.buffer.ByteBuf;

/**
 * The storage behind a namespace. Offsets and lengths are in logical blocks of {@link #blockSize()}.
 *
 * <p>Every call completes exactly once through its {@link IoCallback}, on any thread; the target moves
 * the completion back to the queue's event loop. Implementations must not block the calling thread
 * (an event loop): blocking work goes to the implementation's own threads.
 */
public interface BlockDevice {

    /** Logical block size in bytes: 512 or 4096. */
    int blockSize();

    /** Current size in logical blocks; may grow while hosts are connected. */
    long blockCount();

    /** Reads {@code blocks} blocks at {@code lba} into {@code dst}, appending them at its writer index. */
    void read(long lba, int blocks, ByteBuf dst, IoCallback callback);

    /** Writes the readable bytes of {@code src}; {@code fua} asks that the data be durable on completion. */
    void write(long lba, int blocks, ByteBuf src, boolean fua, IoCallback callback);

    /** Makes every write completed before this call durable. */
    void flush(IoCallback callback);

    /** Makes the range read as zeros. */
    void writeZeroes(long lba, int blocks, IoCallback callback);

    /** Hints that the range is no longer needed; it reads as zeros afterwards. */
    void deallocate(long lba, int blocks, IoCallback callback);
}
