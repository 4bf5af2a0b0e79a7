package io.basalt.service.engine.ec;

import java.nio.ByteBuffer;

/**
 * A systematic Reed-Solomon code of k data chunks and m parity chunks of equal length: any k of the
 * k+m chunks rebuild the others. Chunk i < k is data chunk i, chunk k+p is parity chunk p.
 *
 * <p>A chunk is the bytes of a direct buffer from its position to its limit; positions and limits are
 * left as they are; a chunk written by a call must not overlap another chunk of that call. Calls are
 * thread-safe and allocate nothing once a coder has seen an erasure pattern, but they compute at
 * memory speed over whole chunks: call them on the engine's threads, never on an event loop. Arguments are checked before any byte is written: a refused call leaves
 * every buffer as it was.
 */
public interface ErasureCoder {
    /** k. */
    int dataChunks();

    /** m: how many lost chunks a stripe survives. */
    int parityChunks();

    /** Which implementation computes, e.g. "ISA-L" or "Java". */
    String implementation();

    /**
     * Computes the parity of one stripe.
     *
     * @param data   k chunks
     * @param parity m writable chunks of the data chunks' length, overwritten
     * @throws IllegalArgumentException (nothing written) if the counts, lengths or kinds of buffer are wrong
     */
    void encode(ByteBuffer[] data, ByteBuffer[] parity);

    /**
     * Rebuilds lost chunks of one stripe, data or parity, from k surviving ones: the chunks listed in
     * {@code missing} are overwritten; the sources are the first k chunks not listed there, so only
     * those need to be read. Other entries of {@code chunks} may be null.
     *
     * @param chunks  k+m entries, by chunk index
     * @param missing indexes of the chunks to rebuild, in any order, at most m of them
     * @throws IllegalArgumentException (nothing written) if more than m chunks are missing, an index is
     *                                  out of range or repeated, a needed chunk is null, or lengths or
     *                                  kinds of buffer are wrong
     */
    void reconstruct(ByteBuffer[] chunks, int[] missing);
}
