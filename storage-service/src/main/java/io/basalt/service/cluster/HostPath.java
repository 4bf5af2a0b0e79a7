package io.basalt.service.cluster;

import io.basalt.service.engine.BlockStore;
import io.basalt.service.engine.IoCompletion;
import io.basalt.service.engine.IoResult;
import io.netty.buffer.ByteBuf;

/**
 * What hosts reach a copy of a replicated volume through on its node, in the volume's own subsystem:
 * the primary's replicated store while this node is the volume's primary, and nothing otherwise. A
 * command reaching it on a secondary (its path is inaccessible, so the target's ANA check refuses it
 * first; this is the second wall) ends {@code FENCED}, a path error, and never touches the copy, which
 * only the primary writes, through the replica subsystem.
 */
final class HostPath implements BlockStore {
    /** The node's copy: only its geometry is read here. */
    private final BlockStore copy;
    /** The replicated store while this node is the primary, else null. Read once per command, no allocation. */
    private volatile BlockStore serving;

    HostPath(BlockStore copy) {
        this.copy = copy;
    }

    /** From the next command on, hosts' commands go to {@code store}; null refuses them. */
    void serveThrough(BlockStore store) {
        this.serving = store;
    }

    @Override
    public int blockSize() {
        return copy.blockSize();
    }

    @Override
    public long blockCount() {
        return copy.blockCount();
    }

    @Override
    public void read(long lba, int blocks, ByteBuf dst, IoCompletion completion) {
        BlockStore store = serving;
        if (store == null) {
            completion.done(IoResult.FENCED);
        } else {
            store.read(lba, blocks, dst, completion);
        }
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCompletion completion) {
        BlockStore store = serving;
        if (store == null) {
            completion.done(IoResult.FENCED);
        } else {
            store.write(lba, blocks, src, fua, completion);
        }
    }

    @Override
    public void flush(IoCompletion completion) {
        BlockStore store = serving;
        if (store == null) {
            completion.done(IoResult.FENCED);
        } else {
            store.flush(completion);
        }
    }

    @Override
    public void unmap(long lba, long blocks, IoCompletion completion) {
        BlockStore store = serving;
        if (store == null) {
            completion.done(IoResult.FENCED);
        } else {
            store.unmap(lba, blocks, completion);
        }
    }
}
