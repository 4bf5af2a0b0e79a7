package io.basalt.service.crash;

import io.basalt.nvmetcp.host.HostQueue;
import io.basalt.nvmetcp.host.IoCompletion;
import io.basalt.nvmetcp.host.NvmeTransportException;
import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One writer of the crash test: random writes (some with FUA), deallocates and write zeroes in its
 * own LBA range, a few in flight at once on its own I/O queue, never two overlapping, and a Flush
 * every so many completed operations. It records every operation in the {@link VolumeModel}: issued
 * before it is sent, acknowledged when it completes, durable when a later Flush completes (or at
 * once for FUA). Runs until stopped or until its connection fails (the kill), then waits (bounded)
 * for its commands in flight to finish.
 */
final class Writer implements Runnable {
    static final int DEPTH = 8;
    private static final int MAX_WRITE_BLOCKS = 32;
    private static final int MAX_TRIM_BLOCKS = 64;
    private static final long DRAIN_SECONDS = 30;

    private final int id;
    private final HostQueue queue;
    private final int nsid;
    private final VolumeModel model;
    private final VolumeModel.OpLog log;
    private final int first;
    private final int count;
    private final Random random;
    private final boolean flushes;
    private final AtomicBoolean killed;
    private final Queue<String> errors;
    private final Semaphore permits = new Semaphore(DEPTH);
    /** {start, blocks} of the operations in flight; guarded by this. */
    private final List<long[]> inFlight = new ArrayList<>();
    /** Generations acknowledged since the last Flush was sent; guarded by this. */
    private List<Long> ackedSinceFlush = new ArrayList<>();
    private int sinceFlush;
    private int flushEvery;
    private volatile boolean stop;
    private volatile boolean dead;
    // counters, guarded by this
    long writes;
    long fuaWrites;
    long unmaps;
    long flushesDone;
    long bytesWritten;

    /**
     * @param flushes whether to send Flushes at all (the graceful-stop phase sends none, to see that
     *                a clean shutdown keeps acknowledged writes by itself)
     * @param killed  set just before the service is killed: connection failures are expected from then on
     * @param errors  where unexpected failures go
     */
    Writer(int id, HostQueue queue, int nsid, VolumeModel model, long seed, boolean flushes, AtomicBoolean killed,
           Queue<String> errors) {
        this.id = id;
        this.queue = queue;
        this.nsid = nsid;
        this.model = model;
        this.log = model.logs[id];
        this.first = model.firstLba(id);
        this.count = model.lbaCount(id);
        this.random = new Random(seed);
        this.flushes = flushes;
        this.killed = killed;
        this.errors = errors;
        this.flushEvery = nextFlushInterval();
    }

    void stop() {
        stop = true;
    }

    boolean dead() {
        return dead;
    }

    private int nextFlushInterval() {
        return 4 + random.nextInt(60);
    }

    @Override
    public void run() {
        try {
            while (!stop && !dead) {
                if (!permits.tryAcquire(50, TimeUnit.MILLISECONDS)) {
                    continue;
                }
                boolean sent = false;
                try {
                    sent = submitOne();
                } catch (RuntimeException e) {
                    if (!killed.get()) {
                        errors.add("writer " + id + ": submitting failed before the kill: " + e);
                    }
                    dead = true;
                } finally {
                    if (!sent) {
                        permits.release();
                    }
                }
            }
            // every command in flight completes or fails once its connection is gone
            if (permits.tryAcquire(DEPTH, DRAIN_SECONDS, TimeUnit.SECONDS)) {
                permits.release(DEPTH);
            } else {
                errors.add("writer " + id + ": " + (DEPTH - permits.availablePermits())
                        + " commands neither completed nor failed within " + DRAIN_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            errors.add("writer " + id + " interrupted");
        }
    }

    /** Sends one operation; false if none was sent (the permit goes back). */
    private boolean submitOne() {
        List<Long> covered = null;
        synchronized (this) {
            if (flushes && sinceFlush >= flushEvery && !ackedSinceFlush.isEmpty()) {
                covered = ackedSinceFlush;
                ackedSinceFlush = new ArrayList<>();
                sinceFlush = 0;
                flushEvery = nextFlushInterval();
            }
        }
        if (covered != null) {
            queue.flush(nsid, new FlushDone(covered));
            return true;
        }
        int kind = random.nextInt(100);
        boolean unmap = kind < 6;
        boolean writeZeroes = kind < 2;
        boolean fua = !unmap && kind < 12;
        int n = Math.min(count, 1 + random.nextInt(unmap ? MAX_TRIM_BLOCKS : MAX_WRITE_BLOCKS));
        long start = first + random.nextInt(count - n + 1);
        long gen;
        synchronized (this) {
            for (long[] f : inFlight) {
                if (start < f[0] + f[1] && f[0] < start + n) {
                    return false;
                }
            }
            gen = log.append(start, n, unmap);
            for (int lba = (int) start; lba < start + n; lba++) {
                model.issued[lba] = gen;
                if (unmap) {
                    model.lastTrim[lba] = gen;
                }
            }
            inFlight.add(new long[] {start, n});
        }
        OpDone done = new OpDone(gen, start, n, unmap, fua);
        if (unmap) {
            if (writeZeroes) {
                queue.writeZeroes(nsid, start, n, done);
            } else {
                queue.deallocate(nsid, start, n, done);
            }
        } else {
            int bs = model.blockSize;
            byte[] data = new byte[n * bs];
            for (int i = 0; i < n; i++) {
                BlockPattern.fill(data, i * bs, bs, model.runId, start + i, gen, id);
            }
            queue.write(nsid, start, n, Unpooled.wrappedBuffer(data), fua, done);
        }
        return true;
    }

    private synchronized void removeInFlight(long start) {
        for (int i = 0; i < inFlight.size(); i++) {
            if (inFlight.get(i)[0] == start) {
                inFlight.remove(i);
                return;
            }
        }
    }

    private void connectionFailed(String what, NvmeTransportException cause) {
        if (!killed.get()) {
            errors.add("writer " + id + ": " + what + " failed on its connection before the kill: " + cause.getMessage());
        }
        dead = true;
    }

    /** Completion of a write, deallocate or write zeroes. */
    private final class OpDone implements IoCompletion {
        private final long gen;
        private final long start;
        private final int n;
        private final boolean unmap;
        private final boolean fua;

        OpDone(long gen, long start, int n, boolean unmap, boolean fua) {
            this.gen = gen;
            this.start = start;
            this.n = n;
            this.unmap = unmap;
            this.fua = fua;
        }

        @Override
        public void complete(int status, long result) {
            synchronized (Writer.this) {
                removeInFlight(start);
                if (status == Status.SUCCESS) {
                    for (int lba = (int) start; lba < start + n; lba++) {
                        model.acked[lba] = gen;
                        if (fua) {
                            model.durable[lba] = Math.max(model.durable[lba], gen);
                        }
                    }
                    ackedSinceFlush.add(gen);
                    sinceFlush++;
                    if (unmap) {
                        unmaps++;
                    } else {
                        writes++;
                        bytesWritten += (long) n * model.blockSize;
                        if (fua) {
                            fuaWrites++;
                        }
                    }
                } else {
                    errors.add("writer " + id + ": " + (unmap ? "unmap" : fua ? "FUA write" : "write") + " of " + n
                            + " blocks at lba " + start + " (generation " + gen + ") completed with "
                            + Status.describe(status));
                }
            }
            permits.release();
        }

        @Override
        public void failed(NvmeTransportException cause) {
            removeInFlight(start);
            connectionFailed((unmap ? "an unmap" : "a write") + " at lba " + start, cause);
            permits.release();
        }
    }

    /** Completion of a Flush covering the operations acknowledged before it was sent. */
    private final class FlushDone implements IoCompletion {
        private final List<Long> covered;

        FlushDone(List<Long> covered) {
            this.covered = covered;
        }

        @Override
        public void complete(int status, long result) {
            synchronized (Writer.this) {
                if (status == Status.SUCCESS) {
                    flushesDone++;
                    for (long gen : covered) {
                        long start = log.start(gen);
                        for (int lba = (int) start; lba < start + log.count(gen); lba++) {
                            model.durable[lba] = Math.max(model.durable[lba], gen);
                        }
                    }
                } else {
                    errors.add("writer " + id + ": Flush completed with " + Status.describe(status));
                    ackedSinceFlush.addAll(covered);
                }
            }
            permits.release();
        }

        @Override
        public void failed(NvmeTransportException cause) {
            synchronized (Writer.this) {
                ackedSinceFlush.addAll(covered); // not durable; a later Flush would cover them
            }
            connectionFailed("a Flush", cause);
            permits.release();
        }
    }

    synchronized String summary() {
        return "writer " + id + ": " + writes + " writes (" + fuaWrites + " FUA, " + (bytesWritten >> 10) + " KiB), "
                + unmaps + " unmaps, " + flushesDone + " flushes, generation " + log.last();
    }
}
