package io.basalt.service.replication;

import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.IoCallback;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A secondary's copy of a volume as its primary writes it: the secondary's own data-plane device
 * behind a fence. Every command that changes data carries the generation its primary holds (in
 * Command Dwords 2-3, see {@link RemoteReplica}); one older than the newest this secondary has seen,
 * from etcd or from an earlier command, is refused with Reservation Conflict and changes nothing, so a
 * primary that was deposed (a newer generation exists) cannot get a write replicated. A newer one
 * raises the fence.
 *
 * <p>Only the nodes of the cluster reach this device: it is the one namespace of the volume's internal
 * replica subsystem, whose ACL lists the cluster's nodes' host NQNs (see docs/cluster.md).
 */
public final class GenerationFence implements BlockDevice {
    private final BlockDevice copy;
    private final AtomicLong newest;

    public GenerationFence(BlockDevice copy, long generation) {
        this.copy = copy;
        this.newest = new AtomicLong(generation);
    }

    /** The newest generation seen: from the volume's record in etcd or a primary's command. */
    public long generation() {
        return newest.get();
    }

    /**
     * Raises the fence to a generation read from etcd; never lowers it. A secondary raises it from etcd
     * only when the record names another primary (a promotion): changes of the in-sync set bump the
     * generation too, and reach a secondary through its primary's next command, so a primary is not
     * refused for a bump it made itself and has not yet sent.
     */
    public void raise(long generation) {
        newest.accumulateAndGet(generation, Math::max);
    }

    /** False (and the command refused) when it carries a generation older than the newest seen. */
    private boolean admitted(IoCallback callback) {
        long carried = callback.commandDwords2And3();
        if (newest.accumulateAndGet(carried, Math::max) > carried) {
            callback.complete(Status.RESERVATION_CONFLICT | Status.DNR);
            return false;
        }
        return true;
    }

    @Override
    public int blockSize() {
        return copy.blockSize();
    }

    @Override
    public long blockCount() {
        return copy.blockCount();
    }

    /** Reads are the primary's catch-up checks and tests; they change nothing and need no fence. */
    @Override
    public void read(long lba, int blocks, ByteBuf dst, IoCallback callback) {
        copy.read(lba, blocks, dst, callback);
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCallback callback) {
        if (admitted(callback)) {
            copy.write(lba, blocks, src, fua, callback);
        }
    }

    @Override
    public void flush(IoCallback callback) {
        if (admitted(callback)) {
            copy.flush(callback);
        }
    }

    @Override
    public void writeZeroes(long lba, int blocks, IoCallback callback) {
        if (admitted(callback)) {
            copy.writeZeroes(lba, blocks, callback);
        }
    }

    @Override
    public void deallocate(long lba, int blocks, IoCallback callback) {
        if (admitted(callback)) {
            copy.deallocate(lba, blocks, callback);
        }
    }
}
