package io.basalt.service.replication;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.HostQueue;
import io.basalt.nvmetcp.host.NvmeTransportException;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.service.engine.BlockStore;
import io.basalt.service.engine.IoCompletion;
import io.basalt.service.engine.IoResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A secondary node's copy of a volume, seen from the primary: the same {@link BlockStore} as the
 * engine's local volume, over Basalt's NVMe/TCP host client to the secondary's internal replica
 * subsystem. Every command that changes data (write, write zeroes, flush) carries the volume's
 * generation in Command Dwords 2-3, which the secondary's {@link GenerationFence} checks.
 *
 * <p>Hung secondaries are bounded by {@link #stalled}: a replica with commands outstanding and no
 * completion for the replication timeout is {@link #cut} (its connections closed), which fails every
 * outstanding command at once through the host client.
 */
public final class RemoteReplica implements BlockStore {
    /** Blocks of one Write Zeroes (NLB is a 16-bit, zero-based count). */
    static final int MAX_ZEROES_BLOCKS = 1 << 16;
    /** Per submitting thread: the submission entry that {@link HostQueue#submit} copies at once. */
    private static final ThreadLocal<ByteBuf> SQE = ThreadLocal.withInitial(() -> Unpooled.buffer(Sqe.SIZE, Sqe.SIZE));

    private final String nodeId;
    private final HostController controller;
    private final int nsid;
    private final int blockSize;
    private final long blockCount;
    private final AtomicInteger nextQueue = new AtomicInteger();
    private final AtomicInteger outstanding = new AtomicInteger();
    private volatile long lastProgressNanos = System.nanoTime();
    private volatile long generation;

    /**
     * @param controller connected to the secondary's replica subsystem, with the namespace identified
     * @param blockCount the namespace's size, in blocks of {@code blockSize}
     */
    public RemoteReplica(String nodeId, HostController controller, int nsid, int blockSize, long blockCount,
                         long generation) {
        if (controller.ioQueueCount() == 0) {
            throw new IllegalArgumentException("the controller to " + nodeId + " has no I/O queue");
        }
        this.nodeId = nodeId;
        this.controller = controller;
        this.nsid = nsid;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.generation = generation;
    }

    /**
     * Connects to the replica subsystem {@code nqn} at {@code address:port} (bounded by the options'
     * connect timeout) and identifies its namespace.
     */
    public static CompletableFuture<RemoteReplica> connect(String nodeId, EventLoopGroup group, HostOptions options,
                                                           String address, int port, String nqn, long generation) {
        return HostController.connect(group, options, address, port, nqn).thenCompose(controller ->
                controller.identifyNamespace(ReplicaSubsystem.NSID).handle((ns, failure) -> {
                    if (failure != null || !ns.isActive()) {
                        controller.closeAsync();
                        throw new CompletionException(failure != null ? failure
                                : new IllegalStateException(nqn + " on " + nodeId + " shows no namespace "
                                + ReplicaSubsystem.NSID));
                    }
                    return new RemoteReplica(nodeId, controller, ReplicaSubsystem.NSID, ns.blockSize(), ns.nsze(),
                            generation);
                }));
    }

    public String nodeId() {
        return nodeId;
    }

    /** The generation the next forwarded commands carry; it only rises. */
    void generation(long generation) {
        if (generation > this.generation) {
            this.generation = generation;
        }
    }

    long generation() {
        return generation;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long blockCount() {
        return blockCount;
    }

    // ---- the BlockStore view (catch-up, tests): one small adapter per call ----

    @Override
    public void read(long lba, int blocks, ByteBuf dst, IoCompletion completion) {
        Forwarded adapter = bind(new Adapter(completion));
        started();
        try {
            controller.read(nsid, lba, blocks, dst, adapter);
        } catch (RuntimeException refused) {
            adapter.failed(new NvmeTransportException("read on " + nodeId + " refused: " + refused.getMessage()));
        }
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCompletion completion) {
        forwardWrite(lba, blocks, src, fua, new Adapter(completion));
    }

    @Override
    public void flush(IoCompletion completion) {
        forwardFlush(new Adapter(completion));
    }

    @Override
    public void unmap(long lba, long blocks, IoCompletion completion) {
        forwardUnmap(lba, blocks, new Adapter(completion));
    }

    // ---- forwarding with the generation, completion objects reused by the caller ----

    void forwardWrite(long lba, int blocks, ByteBuf src, boolean fua, Forwarded completion) {
        ByteBuf sqe = command(Opcodes.IO_WRITE, lba, blocks);
        if (fua) {
            sqe.setIntLE(Sqe.CDW12, sqe.getIntLE(Sqe.CDW12) | 1 << 30);
        }
        submit(sqe, src, blocks * blockSize, completion);
    }

    void forwardFlush(Forwarded completion) {
        ByteBuf sqe = command(Opcodes.IO_FLUSH, 0, 0);
        submit(sqe, null, 0, completion);
    }

    /** Unmaps as Write Zeroes, which reads as zeros and takes no space on a Basalt target. */
    void forwardUnmap(long lba, long blocks, Forwarded completion) {
        if (blocks <= MAX_ZEROES_BLOCKS) {
            submit(command(Opcodes.IO_WRITE_ZEROES, lba, (int) blocks), null, 0, completion);
            return;
        }
        // Rare (a large discard): one completion for the pieces, allocated here only.
        long pieces = (blocks + MAX_ZEROES_BLOCKS - 1) / MAX_ZEROES_BLOCKS;
        Pieces all = new Pieces(pieces, completion);
        for (long start = lba, end = lba + blocks; start < end; start += MAX_ZEROES_BLOCKS) {
            int n = (int) Math.min(MAX_ZEROES_BLOCKS, end - start);
            submit(command(Opcodes.IO_WRITE_ZEROES, start, n), null, 0, all);
        }
    }

    private ByteBuf command(int opcode, long lba, int blocks) {
        ByteBuf sqe = SQE.get();
        sqe.clear().setZero(0, Sqe.SIZE).writerIndex(Sqe.SIZE);
        sqe.setByte(Sqe.OPCODE, opcode);
        sqe.setIntLE(Sqe.NSID, nsid);
        sqe.setLongLE(Sqe.CDW2, generation);
        if (blocks > 0) {
            sqe.setLongLE(Sqe.CDW10, lba);
            sqe.setIntLE(Sqe.CDW12, blocks - 1);
        }
        return sqe;
    }

    private void submit(ByteBuf sqe, ByteBuf data, int length, Forwarded completion) {
        HostQueue queue = controller.ioQueue((nextQueue.getAndIncrement() & Integer.MAX_VALUE)
                % controller.ioQueueCount());
        bind(completion);
        started();
        try {
            queue.submit(sqe, data, length, completion);
        } catch (RuntimeException refused) {
            // A full queue or a closed connection: the command never left; it failed on this replica.
            completion.failed(new NvmeTransportException("forwarding to " + nodeId + " refused: " + refused.getMessage()));
        }
    }

    private void started() {
        if (outstanding.getAndIncrement() == 0) {
            lastProgressNanos = System.nanoTime();
        }
    }

    private void finished() {
        lastProgressNanos = System.nanoTime();
        outstanding.decrementAndGet();
    }

    /** Commands are outstanding and none completed for {@code timeoutNanos}. */
    boolean stalled(long nowNanos, long timeoutNanos) {
        return outstanding.get() > 0 && nowNanos - lastProgressNanos > timeoutNanos;
    }

    /** Closes the connections at once: every outstanding command fails, as does anything sent later. */
    void cut() {
        for (int i = 0; i < controller.ioQueueCount(); i++) {
            controller.ioQueue(i).close();
        }
        controller.closeAsync();
    }

    /** Disconnects cleanly (bounded). */
    public void close() {
        controller.close();
    }

    /** The storage result of a forwarded command's NVMe status, for the {@link BlockStore} view. */
    static IoResult resultOf(int status) {
        return switch (status & 0x7FF) {
            case Status.SUCCESS -> IoResult.OK;
            case Status.LBA_OUT_OF_RANGE -> IoResult.OUT_OF_RANGE;
            case Status.NAMESPACE_WRITE_PROTECTED -> IoResult.READ_ONLY;
            case Status.CAPACITY_EXCEEDED -> IoResult.NO_SPACE;
            case Status.UNRECOVERED_READ_ERROR -> IoResult.MEDIA_ERROR;
            default -> IoResult.FAILED;
        };
    }

    /**
     * Completion of one forwarded command; counts the replica's outstanding commands. A transport
     * failure arrives as {@link io.basalt.nvmetcp.host.IoCompletion#HOST_PATH_ERROR}.
     */
    abstract static class Forwarded implements io.basalt.nvmetcp.host.IoCompletion {
        private RemoteReplica replica;

        @Override
        public final void complete(int status, long result) {
            RemoteReplica from = replica;
            if (from != null) {
                from.finished();
            }
            forwarded(status);
        }

        /** @param status the secondary's NVMe status as completed, DNR and More bits included */
        abstract void forwarded(int status);
    }

    private Forwarded bind(Forwarded completion) {
        completion.replica = this;
        return completion;
    }

    private static final class Adapter extends Forwarded {
        private final IoCompletion completion;

        Adapter(IoCompletion completion) {
            this.completion = completion;
        }

        @Override
        void forwarded(int status) {
            completion.done(resultOf(status));
        }
    }

    /** Several Write Zeroes for one unmap: done with the first failure's status, or success. */
    private static final class Pieces extends Forwarded {
        private final AtomicInteger left;
        private final Forwarded whole;
        private volatile int firstFailure = Status.SUCCESS;

        Pieces(long pieces, Forwarded whole) {
            this.left = new AtomicInteger((int) pieces);
            this.whole = whole;
        }

        @Override
        void forwarded(int status) {
            if (status != Status.SUCCESS && firstFailure == Status.SUCCESS) {
                firstFailure = status;
            }
            if (left.decrementAndGet() == 0) {
                whole.forwarded(firstFailure);
            }
        }
    }
}
