package io.basalt.service.replication;

import io.basalt.cluster.membership.LeaseFence;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.service.engine.BlockStore;
import io.basalt.service.engine.IoCompletion;
import io.basalt.service.engine.IoResult;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A volume on its primary: the local copy and one {@link RemoteReplica} per in-sync secondary, as one
 * {@link BlockStore} below the data-plane volume layer. A write, unmap or flush runs on every in-sync
 * copy at once and completes when all of them have answered: with FUA or after a flush, the data is
 * durable on every in-sync copy. Reads are served by the local copy.
 *
 * <p>A secondary whose forwarded command fails, or that answers nothing for the replication timeout
 * (it is then cut, which fails its commands), leaves the in-sync set: locally at once, so later
 * commands go on without it, and in the {@link InSyncSet} (etcd) by a transaction that bumps the
 * generation. No command that missed a secondary completes before that transaction is recorded: the
 * secondary could otherwise be promoted without a write the host was told is done. From then on
 * every write and unmap that completes marks its regions in a {@link DirtyRegions} of that secondary,
 * which {@link #rejoin} copies when it returns; so do the regions it acknowledged writes to since its
 * last completed flush ({@link UnflushedRegions}), which its node may have lost. A secondary that refuses a command for its generation
 * (Reservation Conflict) means a newer primary exists: this store then fails every read and write
 * (fenced).
 * Given the node's {@link LeaseFence} ({@link #acknowledgeOnlyWithin}), it also fails them while the
 * node's lease is not known to be alive, since another node may be promoted once it expires.
 *
 * <p>No allocation per command while every copy is in sync: commands come from a pool and forward
 * with completions they own.
 */
public final class ReplicatedStore implements BlockStore, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedStore.class);
    /** A volume has at most 3 copies: 2 secondaries. */
    static final int MAX_SECONDARIES = 2;
    private static final int POOLED_COMMANDS = 256;
    /** Dirty regions left for the final pass, which copies them while writes wait. */
    private static final int FINAL_PASS_REGIONS = 64;
    private static final int MAX_LIVE_PASSES = 8;

    private final String volumeId;
    private final BlockStore local;
    private final InSyncSet inSyncSet;
    private final int regionBlocks;
    private final long timeoutNanos;
    private final ScheduledFuture<?> watchdog;
    private final ArrayBlockingQueue<Command> pool = new ArrayBlockingQueue<>(POOLED_COMMANDS);

    private volatile Members members;
    private volatile long generation;
    private volatile boolean fenced;
    /** This node's lease, when it is a cluster's node: see {@link #acknowledgeOnlyWithin}. */
    private volatile LeaseFence lease;

    /** Commands that change data, between their start and completion; see {@link #pauseAndDrain}. */
    private final AtomicInteger changing = new AtomicInteger();
    private volatile boolean paused;
    private final ConcurrentLinkedQueue<Runnable> parked = new ConcurrentLinkedQueue<>();

    /**
     * @param secondaries the in-sync secondaries, connected (at most {@value #MAX_SECONDARIES})
     * @param regionBlocks blocks per region of the dirty maps (larger volumes get larger regions)
     * @param timeout how long a secondary may answer nothing while commands wait for it
     * @param control runs the stall check (every quarter of {@code timeout}); never an event loop
     */
    public ReplicatedStore(String volumeId, BlockStore local, List<RemoteReplica> secondaries, long generation,
                           InSyncSet inSyncSet, int regionBlocks, long timeout, TimeUnit unit,
                           ScheduledExecutorService control) {
        if (secondaries.size() > MAX_SECONDARIES) {
            throw new IllegalArgumentException(secondaries.size() + " secondaries; at most " + MAX_SECONDARIES);
        }
        for (RemoteReplica r : secondaries) {
            if (r.blockSize() != local.blockSize() || r.blockCount() != local.blockCount()) {
                throw new IllegalArgumentException("the copy on " + r.nodeId() + " has " + r.blockCount() + " blocks of "
                        + r.blockSize() + " bytes, the local one " + local.blockCount() + " of " + local.blockSize());
            }
            r.generation(generation);
        }
        this.volumeId = volumeId;
        this.local = local;
        this.inSyncSet = inSyncSet;
        this.regionBlocks = regionBlocks;
        this.timeoutNanos = unit.toNanos(timeout);
        this.generation = generation;
        this.members = new Members(secondaries.toArray(RemoteReplica[]::new),
                secondaries.stream().map(r -> unflushedRegions()).toArray(UnflushedRegions[]::new), new Behind[0]);
        long tick = Math.max(1, timeoutNanos / 4);
        this.watchdog = control.scheduleWithFixedDelay(this::checkStalls, tick, tick, TimeUnit.NANOSECONDS);
    }

    /**
     * The copies that take every write: the local one and these secondaries, with what each of them may
     * not have made durable yet ({@code unflushed[i]} is {@code inSync[i]}'s).
     */
    record Members(RemoteReplica[] inSync, UnflushedRegions[] unflushed, Behind[] behind) {
        Behind behind(String nodeId) {
            for (Behind b : behind) {
                if (b.nodeId.equals(nodeId)) {
                    return b;
                }
            }
            return null;
        }
    }

    /**
     * A secondary out of the in-sync set: what changed since, whether what it holds is known at all (else
     * its rejoin compares every region), and the transaction that recorded it.
     */
    static final class Behind {
        final String nodeId;
        final DirtyRegions dirty;
        final boolean contentsUnknown;
        volatile CompletableFuture<Long> recorded;

        Behind(String nodeId, DirtyRegions dirty, boolean contentsUnknown, CompletableFuture<Long> recorded) {
            this.nodeId = nodeId;
            this.dirty = dirty;
            this.contentsUnknown = contentsUnknown;
            this.recorded = recorded;
        }

        boolean isRecorded() {
            CompletableFuture<Long> r = recorded;
            return r.isDone() && !r.isCompletedExceptionally();
        }
    }

    public long generation() {
        return generation;
    }

    /** Node ids of the secondaries in sync now (the local copy not included). */
    public List<String> inSyncNodes() {
        List<String> ids = new ArrayList<>();
        for (RemoteReplica r : members.inSync) {
            ids.add(r.nodeId());
        }
        return ids;
    }

    /** Dirty regions recorded for an out-of-sync secondary, or -1 if it is not out of sync. */
    public long dirtyRegions(String nodeId) {
        Behind b = members.behind(nodeId);
        return b == null ? -1 : b.dirty.count();
    }

    /** A newer primary exists: this store acknowledges no write any more. */
    public boolean fenced() {
        return fenced;
    }

    /**
     * From now on, starts and acknowledges writes, unmaps and flushes, and starts reads, only while
     * {@code lease} says this node's lease is known to be alive; otherwise they end {@code FENCED} (ANA
     * Transition, a path error: a multipath host tries another path or waits for one). The fence falls
     * before etcd can expire the lease, so before another node can be promoted: this primary then
     * acknowledges nothing a promoted one might not have. A lease that holds again (the node kept or
     * renewed it) lets commands through again; whether this node is still the primary then is the
     * volume record's business, which the node follows.
     */
    public void acknowledgeOnlyWithin(LeaseFence lease) {
        this.lease = lease;
    }

    private boolean leaseHeld() {
        LeaseFence l = lease;
        return l == null || l.mayAcknowledge();
    }

    @Override
    public int blockSize() {
        return local.blockSize();
    }

    @Override
    public long blockCount() {
        return local.blockCount();
    }

    @Override
    public void read(long lba, int blocks, ByteBuf dst, IoCompletion completion) {
        // A primary that may be deposed could return data older than what a new primary acknowledged.
        // Checked when the read starts only: it takes milliseconds, the fence falls a keep-alive interval
        // before the lease can expire.
        if (refusedWhileFenced(completion)) {
            return;
        }
        local.read(lba, blocks, dst, completion);
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCompletion completion) {
        if (refusedWhileFenced(completion)) {
            return;
        }
        if (!entered()) {
            park(() -> write(lba, blocks, src, fua, completion)); // only while a rejoin pauses writes
            return;
        }
        Command c = command(Kind.WRITE, lba, blocks, completion);
        c.fua = fua;
        // Read before anything is sent: once the last part completes, the command may be reused.
        RemoteReplica[] to = c.members.inSync;
        Leg[] legs = c.legs;
        local.write(lba, blocks, src, fua, c);
        for (int i = 0; i < to.length; i++) {
            to[i].forwardWrite(lba, blocks, src, fua, legs[i]);
        }
    }

    @Override
    public void unmap(long lba, long blocks, IoCompletion completion) {
        if (refusedWhileFenced(completion)) {
            return;
        }
        if (!entered()) {
            park(() -> unmap(lba, blocks, completion)); // only while a rejoin pauses writes
            return;
        }
        Command c = command(Kind.UNMAP, lba, blocks, completion);
        RemoteReplica[] to = c.members.inSync;
        Leg[] legs = c.legs;
        local.unmap(lba, blocks, c);
        for (int i = 0; i < to.length; i++) {
            to[i].forwardUnmap(lba, blocks, legs[i]);
        }
    }

    @Override
    public void flush(IoCompletion completion) {
        if (refusedWhileFenced(completion)) {
            return;
        }
        if (!entered()) {
            park(() -> flush(completion)); // only while a rejoin pauses writes
            return;
        }
        Command c = command(Kind.FLUSH, 0, 0, completion);
        c.sentNanos = System.nanoTime(); // before any copy gets it: it covers the writes acknowledged before
        RemoteReplica[] to = c.members.inSync;
        Leg[] legs = c.legs;
        local.flush(c);
        for (int i = 0; i < to.length; i++) {
            to[i].forwardFlush(legs[i]);
        }
    }

    private boolean refusedWhileFenced(IoCompletion completion) {
        if (fenced || !leaseHeld()) {
            completion.done(IoResult.FENCED);
            return true;
        }
        return false;
    }

    /**
     * Counts a command as changing data, unless the store is paused for a rejoin: then the caller parks
     * it with {@link #park}.
     */
    private boolean entered() {
        changing.incrementAndGet();
        if (!paused) {
            return true;
        }
        changing.decrementAndGet();
        return false;
    }

    /** Keeps a command until the rejoin that paused writes ends. */
    private void park(Runnable again) {
        parked.add(again);
        if (!paused) {
            runParked(); // the pause ended between the check and the add
        }
    }

    private void runParked() {
        for (Runnable r; (r = parked.poll()) != null; ) {
            r.run();
        }
    }

    private Command command(Kind kind, long lba, long blocks, IoCompletion caller) {
        Command c = pool.poll();
        if (c == null) {
            c = new Command(); // more commands in flight than the pool holds: they return to it later
        }
        Members m = members;
        c.start(kind, lba, blocks, caller, m);
        return c;
    }

    private enum Kind { WRITE, UNMAP, FLUSH }

    /** One command on every in-sync copy; pooled, with one completion per secondary. */
    private final class Command implements IoCompletion {
        private final Leg[] legs = new Leg[MAX_SECONDARIES];
        private final AtomicInteger pending = new AtomicInteger();
        /** Bit i: secondary i failed; bit 31: a secondary refused our generation. */
        private final AtomicInteger failures = new AtomicInteger();
        private Kind kind;
        private long lba;
        private long blocks;
        /** A write's: the copies made it durable when they acknowledged it. */
        private boolean fua;
        /** A flush's: when it was sent to the copies. */
        private long sentNanos;
        private IoCompletion caller;
        private Members members;
        private volatile IoResult localResult;

        Command() {
            for (int i = 0; i < legs.length; i++) {
                legs[i] = new Leg(this, i);
            }
        }

        void start(Kind kind, long lba, long blocks, IoCompletion caller, Members members) {
            this.kind = kind;
            this.lba = lba;
            this.blocks = blocks;
            this.fua = false;
            this.caller = caller;
            this.members = members;
            this.failures.set(0);
            this.localResult = null;
            this.pending.set(1 + members.inSync.length);
        }

        @Override
        public void done(IoResult result) {
            localResult = result;
            partDone();
        }

        void forwarded(int index, int status) {
            int code = status & 0x7FF;
            if (code == Status.RESERVATION_CONFLICT) {
                failures.getAndAccumulate(1 << 31, ReplicatedStore::union);
            } else if (code != Status.SUCCESS) {
                failures.getAndAccumulate(1 << index, ReplicatedStore::union);
            } else if (kind == Kind.FLUSH) {
                members.unflushed[index].flushed(sentNanos);
            } else if (!fua) {
                members.unflushed[index].acknowledged(lba, blocks, System.nanoTime());
            }
            partDone();
        }

        private void partDone() {
            if (pending.decrementAndGet() == 0) {
                finish();
            }
        }

        private void finish() {
            IoResult result = localResult;
            int failed = failures.get();
            boolean changesData = kind != Kind.FLUSH;
            Members m = members;
            IoCompletion to = caller;
            long at = lba;
            long count = blocks;
            caller = null;
            members = null;
            pool.offer(this);
            if ((failed & 1 << 31) != 0) {
                fence();
                complete(to, IoResult.FENCED);
                return;
            }
            List<CompletableFuture<Long>> waits = null;
            for (int i = 0; i < m.inSync.length; i++) {
                if ((failed & 1 << i) != 0) {
                    Behind b = dropOut(m.inSync[i], m.unflushed[i]);
                    if (changesData) {
                        b.dirty.mark(at, count);
                    }
                    waits = waitFor(waits, b);
                }
            }
            for (Behind b : m.behind) {
                if (changesData) {
                    b.dirty.mark(at, count);
                }
                if (!b.isRecorded()) {
                    waits = waitFor(waits, b);
                }
            }
            if (waits == null) {
                complete(to, result);
            } else {
                // A secondary missed this command: it may complete only once etcd says that secondary is out.
                CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new))
                        .whenComplete((v, e) -> complete(to, e == null ? result : IoResult.FAILED));
            }
        }

        private List<CompletableFuture<Long>> waitFor(List<CompletableFuture<Long>> waits, Behind b) {
            List<CompletableFuture<Long>> list = waits == null ? new ArrayList<>(2) : waits;
            list.add(recording(b));
            return list;
        }
    }

    private static int union(int a, int b) {
        return a | b;
    }

    private void complete(IoCompletion to, IoResult result) {
        changing.decrementAndGet();
        // Checked again at the end: the lease may have lapsed while the copies wrote.
        to.done(result.ok() && !leaseHeld() ? IoResult.FENCED : result);
    }

    /** A command's completion on one secondary. */
    private static final class Leg extends RemoteReplica.Forwarded {
        private final Command command;
        private final int index;

        Leg(Command command, int index) {
            this.command = command;
            this.index = index;
        }

        @Override
        void forwarded(int status) {
            command.forwarded(index, status);
        }
    }

    /**
     * Takes {@code replica} out of the in-sync set, once however many commands fail on it: locally at
     * once, then in the {@link InSyncSet}. Its connection is cut so that its other commands fail now.
     */
    private synchronized Behind dropOut(RemoteReplica replica, UnflushedRegions unflushed) {
        Members m = members;
        Behind known = m.behind(replica.nodeId());
        if (known != null) {
            return known;
        }
        LOG.warn("Volume {}: the copy on {} failed or stopped answering; taking it out of the in-sync set",
                volumeId, replica.nodeId());
        DirtyRegions dirty = new DirtyRegions(local.blockCount(), regionBlocks);
        unflushed.markNotDurable(dirty, local.blockCount());
        Behind b = new Behind(replica.nodeId(), dirty, false, null);
        b.recorded = record(b);
        members = new Members(without(m.inSync, replica), without(m.unflushed, unflushed), append(m.behind, b));
        replica.cut();
        return b;
    }

    /** The transaction recording {@code b} out of sync; a new one if the last one failed. */
    private synchronized CompletableFuture<Long> recording(Behind b) {
        if (b.recorded.isCompletedExceptionally()) {
            b.recorded = record(b);
        }
        return b.recorded;
    }

    private CompletableFuture<Long> record(Behind b) {
        return inSyncSet.remove(b.nodeId).whenComplete((g, e) -> {
            if (e != null) {
                LOG.warn("Volume {}: recording {} out of sync failed ({}); writes fail until it is recorded",
                        volumeId, b.nodeId, e.toString());
            } else {
                raiseGeneration(g);
            }
        });
    }

    private synchronized void raiseGeneration(long g) {
        if (g > generation) {
            generation = g;
            for (RemoteReplica r : members.inSync) {
                r.generation(g);
            }
        }
    }

    private void fence() {
        if (!fenced) {
            fenced = true;
            LOG.error("Volume {}: a secondary refused generation {}: a newer primary exists; no more writes are acknowledged",
                    volumeId, generation);
        }
    }

    /** Cuts secondaries that answered nothing for the timeout, and retries unrecorded removals. */
    private void checkStalls() {
        try {
            long now = System.nanoTime();
            for (RemoteReplica r : members.inSync) {
                if (r.stalled(now, timeoutNanos)) {
                    LOG.warn("Volume {}: the copy on {} answered nothing for {} ms; cutting it", volumeId, r.nodeId(),
                            timeoutNanos / 1_000_000);
                    r.cut();
                }
            }
            for (Behind b : members.behind) {
                recording(b);
            }
        } catch (RuntimeException e) {
            LOG.warn("Volume {}: checking the secondaries failed", volumeId, e);
        }
    }

    /**
     * Takes an in-sync secondary that may or may not have made a change of its whole copy (a revert it
     * did not report in time) out of the in-sync set, to be compared whole when it rejoins
     * ({@link #trackUnknown}); its connection is cut. Call while writes are paused. The transaction
     * recording it out, completed at once if it is not in sync here.
     */
    public synchronized CompletableFuture<Long> leaveOutUnknown(String nodeId) {
        Members m = members;
        for (int i = 0; i < m.inSync.length; i++) {
            RemoteReplica replica = m.inSync[i];
            if (replica.nodeId().equals(nodeId)) {
                DirtyRegions dirty = new DirtyRegions(local.blockCount(), regionBlocks);
                dirty.markAll(local.blockCount());
                Behind b = new Behind(nodeId, dirty, true, null);
                b.recorded = record(b);
                members = new Members(without(m.inSync, replica), without(m.unflushed, m.unflushed[i]),
                        append(m.behind, b));
                replica.cut();
                return b.recorded;
            }
        }
        return CompletableFuture.completedFuture(generation);
    }

    /**
     * For a secondary whose changes this primary does not know (it was out of sync when this primary
     * started, or it is the primary this one replaced): every region counts as dirty, and its rejoin
     * compares the whole volume, writing only the blocks that differ ({@link CatchUp}). The caller
     * knows the secondary is already out of the in-sync set in etcd.
     */
    public synchronized void trackUnknown(String nodeId) {
        Members m = members;
        if (m.behind(nodeId) != null) {
            return;
        }
        DirtyRegions dirty = new DirtyRegions(local.blockCount(), regionBlocks);
        dirty.markAll(local.blockCount());
        members = new Members(m.inSync, m.unflushed, append(m.behind, new Behind(nodeId, dirty, true,
                CompletableFuture.completedFuture(generation))));
    }

    /**
     * Brings an out-of-sync secondary back, on the caller's thread (never an event loop): copies the
     * regions written while it was out, while writes go on, until few are left; then makes writes wait
     * (they are parked, not refused), copies the rest, flushes the secondary, records it in sync in the
     * {@link InSyncSet} and forwards writes to it again. Bounded by {@code timeout} per step.
     *
     * @return the blocks copied
     */
    public long rejoin(RemoteReplica replica, long timeout, TimeUnit unit) throws ReplicationException {
        Behind b = members.behind(replica.nodeId());
        if (b == null) {
            throw new ReplicationException("the copy on " + replica.nodeId() + " of volume " + volumeId
                    + " is not out of sync here");
        }
        if (replica.blockSize() != local.blockSize() || replica.blockCount() != local.blockCount()) {
            throw new ReplicationException("the copy on " + replica.nodeId() + " has " + replica.blockCount()
                    + " blocks, the local one " + local.blockCount());
        }
        replica.generation(generation);
        CatchUp copier = new CatchUp(local, replica, b.dirty, b.contentsUnknown, unit.toNanos(timeout));
        try {
            for (int pass = 0; pass < MAX_LIVE_PASSES && b.dirty.count() > FINAL_PASS_REGIONS; pass++) {
                copier.copyDirty();
            }
            pauseAndDrain(unit.toNanos(timeout));
            copier.copyDirty();
            copier.flush();
            long g = CatchUp.await(inSyncSet.rejoin(replica.nodeId()), unit.toNanos(timeout),
                    "record " + replica.nodeId() + " in sync");
            synchronized (this) {
                // The new generation first, so no command reaches the returned copy with the old one.
                replica.generation(g);
                raiseGeneration(g);
                Members m = members;
                // The copy was flushed at the end of the catch-up: nothing it holds is volatile yet.
                members = new Members(append(m.inSync, replica), append(m.unflushed, unflushedRegions()),
                        without(m.behind, b));
            }
            LOG.info("Volume {}: the copy on {} is in sync again at generation {} after {} blocks copied",
                    volumeId, replica.nodeId(), g, copier.copiedBlocks());
            return copier.copiedBlocks();
        } finally {
            copier.close();
            resume();
        }
    }

    private void resume() {
        paused = false;
        runParked();
    }

    /**
     * Before this primary gives the volume to another copy (failback), or while every copy takes a
     * snapshot: makes new writes, unmaps and flushes wait, and waits (bounded) for those in flight, after
     * which every write acknowledged has reached every in-sync copy and nothing more changes. Then either
     * {@link #handedOver} or {@link #keepServing}.
     */
    public void pauseForHandOver(long timeout, TimeUnit unit) throws ReplicationException {
        try {
            pauseAndDrain(unit.toNanos(timeout));
        } catch (ReplicationException e) {
            resume();
            throw e;
        }
    }

    /** The volume went to another copy: the commands that waited, and every later one, end {@code FENCED}. */
    public void handedOver() {
        fenced = true;
        resume();
    }

    /** The hand-over did not happen, or the snapshot is taken: the commands that waited go on. */
    public void keepServing() {
        resume();
    }

    /** Parks new changing commands and waits (bounded) for those in flight to complete; the caller resumes. */
    private void pauseAndDrain(long timeoutNanos) throws ReplicationException {
        paused = true;
        long deadline = System.nanoTime() + timeoutNanos;
        while (changing.get() > 0) {
            if (System.nanoTime() > deadline) {
                throw new ReplicationException("volume " + volumeId + ": " + changing.get()
                        + " commands still in flight after the rejoin's timeout");
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ReplicationException("interrupted while writes drained", e);
            }
        }
    }

    @Override
    public void close() {
        watchdog.cancel(false);
        for (RemoteReplica r : members.inSync) {
            r.close();
        }
    }

    private UnflushedRegions unflushedRegions() {
        return new UnflushedRegions(local.blockCount(), regionBlocks);
    }

    private static <T> T[] without(T[] all, T gone) {
        return Arrays.stream(all).filter(x -> x != gone)
                .toArray(n -> Arrays.copyOf(all, n));
    }

    private static <T> T[] append(T[] all, T more) {
        T[] grown = Arrays.copyOf(all, all.length + 1);
        grown[all.length] = more;
        return grown;
    }
}
