package io.basalt.service.engine;

import io.netty.buffer.ByteBuf;

/**
 * A volume's blocks, asynchronously: the seam below the service's data-plane volume layer. The
 * engine's local volumes implement it; a replicated or erasure-coded store implements the same
 * interface on top of local and remote ones, so the layer above does not change.
 *
 * <p>Offsets and lengths are in logical blocks of {@link #blockSize()}. Calls never block the caller:
 * drive I/O happens on the store's own threads, and every call completes exactly once through its
 * {@link IoCompletion}.
 */
public interface BlockStore {

    int blockSize();

    /** Current size in blocks; it only grows. */
    long blockCount();

    /** Appends the blocks' bytes to {@code dst} at its writer index. {@code dst} must stay valid until completion. */
    void read(long lba, int blocks, ByteBuf dst, IoCompletion completion);

    /**
     * Stores {@code blocks} blocks from {@code src}'s reader index; with {@code fua} they are durable on
     * completion. {@code src} must stay valid and unchanged until completion.
     */
    void write(long lba, int blocks, ByteBuf src, boolean fua, IoCompletion completion);

    /** Makes every write completed before this call durable. */
    void flush(IoCompletion completion);

    /** The blocks read as zeros afterwards and take no space. */
    void unmap(long lba, long blocks, IoCompletion completion);
}
