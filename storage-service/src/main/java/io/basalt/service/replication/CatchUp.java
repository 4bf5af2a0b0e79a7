package io.basalt.service.replication;

import io.basalt.service.engine.BlockStore;
import io.basalt.service.engine.IoResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Copies the dirty regions of a returning secondary from the primary's copy, one piece at a time, on
 * the caller's thread (a rejoin's, never an event loop). Each region is cleared before it is read, so a
 * write that completes on the primary after the read marks it again and the next pass copies it again.
 * Blocks that read as zeros are unmapped on the secondary rather than written.
 *
 * <p>When what the secondary holds is not known (it was out of sync when this primary started, or it
 * is the primary this one replaced, whose last writes may never have reached the others), every region
 * is dirty and each piece is <em>compared</em>: read from both copies, and only the blocks that differ
 * are written. Such a secondary receives only what changed, in whichever direction, at the price of
 * being read whole; nothing is forwarded to it meanwhile, so what is read from it stays what it holds.
 */
final class CatchUp {
    /** Bytes copied with one read and one write. */
    private static final int PIECE_BYTES = 1 << 20;

    private final BlockStore from;
    private final BlockStore to;
    private final DirtyRegions dirty;
    private final long timeoutNanos;
    private final ByteBuf piece;
    /** What the secondary holds of the piece, when its contents are compared; null otherwise. */
    private final ByteBuf theirs;
    private final int pieceBlocks;
    private long copiedBlocks;

    /** @param compare whether the secondary's contents are unknown: only blocks that differ are written */
    CatchUp(BlockStore from, BlockStore to, DirtyRegions dirty, boolean compare, long timeoutNanos) {
        this.from = from;
        this.to = to;
        this.dirty = dirty;
        this.timeoutNanos = timeoutNanos;
        this.pieceBlocks = Math.max(1, PIECE_BYTES / from.blockSize());
        this.piece = Unpooled.directBuffer(pieceBlocks * from.blockSize());
        this.theirs = compare ? Unpooled.directBuffer(pieceBlocks * from.blockSize()) : null;
    }

    /** Blocks copied (written or unmapped on the secondary) so far; blocks found equal are not counted. */
    long copiedBlocks() {
        return copiedBlocks;
    }

    /** One pass over the regions dirty now, and the tail beyond them if it was written. */
    void copyDirty() throws ReplicationException {
        int regionBlocks = dirty.regionBlocks();
        for (long region = dirty.takeNext(0); region >= 0; region = dirty.takeNext(region + 1)) {
            copyRange(region * regionBlocks, Math.min((region + 1) * regionBlocks, from.blockCount()));
        }
        if (dirty.takeTail()) {
            copyRange(dirty.tailStart(), from.blockCount());
        }
    }

    private void copyRange(long start, long end) throws ReplicationException {
        try {
            for (long lba = start; lba < end; lba += pieceBlocks) {
                copy(lba, (int) Math.min(pieceBlocks, end - lba));
            }
        } catch (ReplicationException e) {
            dirty.mark(start, end - start); // not copied after all: the next rejoin copies it
            throw e;
        }
    }

    void flush() throws ReplicationException {
        CompletableFuture<IoResult> done = new CompletableFuture<>();
        to.flush(done::complete);
        check(done, "flush");
    }

    private void copy(long lba, int blocks) throws ReplicationException {
        read(from, lba, blocks, piece, "the primary's copy");
        if (theirs == null) {
            send(lba, blocks, piece);
            return;
        }
        read(to, lba, blocks, theirs, "the secondary's copy");
        int blockSize = from.blockSize();
        for (int first = 0; first < blocks; ) {
            if (ByteBufUtil.equals(piece, first * blockSize, theirs, first * blockSize, blockSize)) {
                first++;
                continue;
            }
            int end = first + 1;
            while (end < blocks && !ByteBufUtil.equals(piece, end * blockSize, theirs, end * blockSize, blockSize)) {
                end++;
            }
            send(lba + first, end - first, piece.slice(first * blockSize, (end - first) * blockSize));
            first = end;
        }
    }

    private void read(BlockStore copy, long lba, int blocks, ByteBuf into, String which) throws ReplicationException {
        into.clear();
        CompletableFuture<IoResult> read = new CompletableFuture<>();
        copy.read(lba, blocks, into, read::complete);
        check(read, "read " + blocks + " blocks at " + lba + " of " + which);
    }

    /** Writes {@code data} ({@code blocks} blocks) at {@code lba} of the secondary, or unmaps it if it is zeros. */
    private void send(long lba, int blocks, ByteBuf data) throws ReplicationException {
        CompletableFuture<IoResult> written = new CompletableFuture<>();
        if (zeros(data)) {
            to.unmap(lba, blocks, written::complete);
        } else {
            to.write(lba, blocks, data, false, written::complete);
        }
        check(written, "copy " + blocks + " blocks at " + lba);
        copiedBlocks += blocks;
    }

    /** Frees the copy buffers. */
    void close() {
        piece.release();
        if (theirs != null) {
            theirs.release();
        }
    }

    private static boolean zeros(ByteBuf buf) {
        for (int i = buf.readerIndex(); i < buf.writerIndex(); i += 8) {
            if (buf.getLong(i) != 0) {
                return false;
            }
        }
        return true;
    }

    private void check(CompletableFuture<IoResult> done, String what) throws ReplicationException {
        IoResult result = await(done, timeoutNanos, what);
        if (!result.ok()) {
            throw new ReplicationException(what + ": " + result);
        }
    }

    static <T> T await(CompletableFuture<T> future, long timeoutNanos, String what) throws ReplicationException {
        try {
            return future.get(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReplicationException(what + ": interrupted", e);
        } catch (ExecutionException e) {
            throw new ReplicationException(what + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new ReplicationException(what + ": no answer in " + timeoutNanos / 1_000_000 + " ms", e);
        }
    }
}
