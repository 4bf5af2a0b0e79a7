package io.basalt.service.engine.gc;

import io.basalt.service.engine.EngineCounters;
import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.log.LogEntry;
import io.basalt.service.engine.log.LogFormat;
import io.basalt.service.engine.log.LogOp;
import io.basalt.service.engine.log.LogWriter;
import io.basalt.service.engine.log.SegmentTable;
import io.basalt.service.engine.map.Address;
import io.basalt.service.engine.map.MapStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Lock;

/**
 * Reclaims segments in the background. When free segments run low it picks sealed segments by
 * cost and benefit (little live data, long untouched: {@code (1 - u) * age / (1 + u)} as in LFS),
 * queues their live blocks to the log writer as relocations, and once a victim holds nothing live
 * asks for a checkpoint, after which the victim is free again. Host I/O never waits for it except
 * when the writer throttles at the reserve.
 */
public final class GarbageCollector implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(GarbageCollector.class);
    /** A segment fuller than this is not worth moving. */
    private static final double MAX_VICTIM_UTILISATION = 0.97;
    /**
     * Emptied victims come free only with the checkpoint that ends their round; until then they hold
     * neither data nor garbage, space taken from the collector. Four per round instead of eight: uniform
     * overwrites at 80% full 2.87 instead of 2.98, 90/10 1.96 instead of 2.01 (docs/benchmarks.md), for
     * twice as many checkpoints and more throttled host writes while the collector works.
     */
    private static final int VICTIMS_PER_ROUND = 4;

    /** Makes a checkpoint and waits until it is durable. */
    public interface Checkpoints {
        void checkpointNow() throws IOException, InterruptedException;
    }

    private final DriveSet drives;
    private final SegmentTable segments;
    private final MapStore maps;
    private final Lock lock;
    private final LogWriter writer;
    private final Checkpoints checkpoints;
    private final EngineCounters counters;
    private final int startBelowFree;
    private final int stopAtFree;
    private final Object signal = new Object();
    private final Thread thread;
    /**
     * A victim's bytes, read whole, made once: a segment's worth per victim (4 MiB, a humongous object
     * to the garbage collector) was 45 KB of heap per 128 KiB host write once the drive had wrapped.
     */
    private ByteBuffer victimBytes;
    private volatile boolean running = true;
    private boolean requested;

    public GarbageCollector(DriveSet drives, SegmentTable segments, MapStore maps, Lock lock, LogWriter writer,
                            Checkpoints checkpoints, EngineCounters counters, int startBelowFree, int stopAtFree) {
        this.drives = drives;
        this.segments = segments;
        this.maps = maps;
        this.lock = lock;
        this.writer = writer;
        this.checkpoints = checkpoints;
        this.counters = counters;
        this.startBelowFree = startBelowFree;
        this.stopAtFree = stopAtFree;
        this.thread = Thread.ofPlatform().name("basalt-gc").daemon(true).unstarted(this);
    }

    public void start() {
        thread.start();
    }

    /** Asks for a collection round soon. */
    public void wake() {
        synchronized (signal) {
            requested = true;
            signal.notifyAll();
        }
    }

    public void stop(long millis) throws InterruptedException {
        running = false;
        wake();
        thread.join(millis);
    }

    @Override
    public void run() {
        while (running) {
            try {
                synchronized (signal) {
                    if (!requested) {
                        signal.wait(1000);
                    }
                    requested = false;
                }
                if (running && freeSegments() < startBelowFree) {
                    collect();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IOException | RuntimeException e) {
                if (writer.failure() != null) {
                    LOG.warn("garbage collection stops: the engine stopped after a drive error");
                    return;
                }
                LOG.error("garbage collection round failed; retrying in a second", e);
                pause();
            }
        }
    }

    /**
     * Runs rounds until enough segments are free or nothing is worth moving. One caller at a time (the
     * collector's thread, or {@code Engine.collectGarbage}), since they share {@link #victimBytes}.
     */
    public synchronized void collect() throws IOException, InterruptedException {
        while (running && freeSegments() < stopAtFree) {
            int reclaimed = 0;
            for (int i = 0; i < VICTIMS_PER_ROUND && running; i++) {
                if (freeSegments() <= writer.keptForCheckpoints()) {
                    // Only the segments kept for checkpoints are left, which no relocation may take:
                    // emptied victims come free with the checkpoint below, before more blocks move.
                    break;
                }
                int victim = pickVictim();
                if (victim < 0) {
                    break;
                }
                relocate(victim);
                reclaimed++;
                if (freeSegments() + reclaimed >= stopAtFree) {
                    break;
                }
            }
            if (reclaimed == 0) {
                if (freeSegments() <= writer.keptForCheckpoints()) {
                    // Victims emptied by a round whose checkpoint failed come free with this one.
                    checkpoints.checkpointNow();
                }
                return;
            }
            checkpoints.checkpointNow();
        }
    }

    private int freeSegments() {
        lock.lock();
        try {
            return segments.freeCount();
        } finally {
            lock.unlock();
        }
    }

    private int pickVictim() {
        lock.lock();
        try {
            long now = writer.sequence();
            int best = -1;
            double bestScore = 0;
            for (int s = 0; s < segments.count(); s++) {
                if (segments.state(s) != SegmentTable.State.SEALED) {
                    continue;
                }
                double u = (double) segments.live(s) / segments.segmentSize();
                if (u > MAX_VICTIM_UTILISATION) {
                    continue;
                }
                double age = 1 + now - segments.sealedAtSequence(s);
                double score = (1 - u) * age / (1 + u);
                if (score > bestScore) {
                    bestScore = score;
                    best = s;
                }
            }
            if (best >= 0) {
                segments.state(best, SegmentTable.State.RELOCATING);
            }
            return best;
        } finally {
            lock.unlock();
        }
    }

    private void relocate(int victim) throws IOException, InterruptedException {
        try {
            moveLiveBlocks(victim);
        } catch (IOException | InterruptedException | RuntimeException e) {
            lock.lock();
            try {
                segments.state(victim, SegmentTable.State.SEALED);
            } finally {
                lock.unlock();
            }
            throw e;
        }
    }

    private void moveLiveBlocks(int victim) throws IOException, InterruptedException {
        if (victimBytes == null) {
            victimBytes = ByteBuffer.allocate(segments.segmentSize());
        }
        // Free again once this returns: every relocation made from it was waited for (submit).
        ByteBuffer bytes = victimBytes.clear().limit((int) segments.written(victim));
        drives.read(victim, 0, bytes);
        bytes.flip();
        List<LogEntry.Relocate> blocks = new ArrayList<>();
        List<ByteBuffer> payloads = new ArrayList<>();
        int pending = 0;
        int offset = LogFormat.SEGMENT_HEADER;
        while (offset < bytes.limit()) {
            LogFormat.Batch batch = LogFormat.parse(bytes.duplicate().position(offset), offset, drives.writeAlignment());
            if (batch == null) {
                break;
            }
            int at = batch.payloadOffset();
            for (LogEntry entry : batch.entries()) {
                switch (entry) {
                    case LogEntry.Write w -> {
                        int lineage = lineage(w.volume());
                        for (int i = 0; i < w.blocks(); i++) {
                            pending += keepIfLive(victim, lineage, w.lba() + i, at, w.length(i), w.crc(i),
                                    bytes, blocks, payloads);
                            at += w.length(i);
                        }
                    }
                    case LogEntry.Relocate r -> {
                        pending += keepIfLive(victim, r.lineage(), r.lba(), at, r.length(), r.crc(), bytes, blocks,
                                payloads);
                        at += r.length();
                    }
                    default -> {
                    }
                }
                if (pending >= LogWriter.MAX_BATCH_PAYLOAD / 2) {
                    submit(blocks, payloads);
                    pending = 0;
                }
            }
            offset += batch.length();
        }
        submit(blocks, payloads);
        lock.lock();
        try {
            if (segments.live(victim) == 0) {
                // Not the victim's own last sequence: a checkpoint captured before the relocations still
                // points into the victim, and freeing the victim on its word would let new batches
                // overwrite blocks that checkpoint (and a recovery from it) needs.
                segments.emptied(victim, writer.sequence());
            } else {
                LOG.warn("segment {} still holds {} live bytes after relocation; leaving it sealed", victim,
                        segments.live(victim));
                segments.state(victim, SegmentTable.State.SEALED);
            }
        } finally {
            lock.unlock();
        }
    }

    private int lineage(int map) {
        lock.lock();
        try {
            return maps.lineageOf(map);
        } finally {
            lock.unlock();
        }
    }

    private int keepIfLive(int victim, int lineage, long lba, int at, int length, int crc, ByteBuffer bytes,
                           List<LogEntry.Relocate> blocks, List<ByteBuffer> payloads) {
        long address = Address.of(victim, at, length);
        boolean live;
        lock.lock();
        try {
            live = lineage >= 0 && maps.isLive(lineage, lba, address);
        } finally {
            lock.unlock();
        }
        if (!live) {
            return 0;
        }
        blocks.add(new LogEntry.Relocate(lineage, lba, address, length, crc));
        payloads.add(bytes.duplicate().position(at).limit(at + length).slice());
        counters.relocated(length);
        return length;
    }

    private void submit(List<LogEntry.Relocate> blocks, List<ByteBuffer> payloads) throws IOException,
            InterruptedException {
        if (blocks.isEmpty()) {
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        writer.submit(new LogOp.Relocation(List.copyOf(blocks), List.copyOf(payloads), done));
        blocks.clear();
        payloads.clear();
        // No time limit: the writer completes or fails every relocation, and fails the queued ones when it stops.
        try {
            done.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("relocating blocks failed: " + e.getMessage(), e);
        }
    }

    /** Waits a second before retrying; {@link #stop} ends the wait. */
    private void pause() {
        synchronized (signal) {
            try {
                if (running) {
                    signal.wait(1000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
