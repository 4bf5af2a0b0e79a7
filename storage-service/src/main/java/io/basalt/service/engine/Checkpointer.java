package io.basalt.service.engine;

import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.drive.MetadataFiles;
import io.basalt.service.engine.log.Checkpoint;
import io.basalt.service.engine.log.CheckpointSegments;
import io.basalt.service.engine.log.LegacyCheckpointFile;
import io.basalt.service.engine.log.LogOp;
import io.basalt.service.engine.log.LogWriter;
import io.basalt.service.engine.log.SegmentTable;
import io.basalt.service.engine.map.MapStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;

/**
 * Takes checkpoints and writes them to the drives. The state is captured on the writer thread between
 * batches — a delta (the pages and directory slots changed since the last capture, frozen
 * copy-on-write: O(changed pages)) or, to keep the chain recovery reads short, a base (every page and
 * page directory frozen copy-on-write in O(maps), walked afterwards on the checkpoint thread) — and
 * the segments its records need are taken from the free list: a delta's in the same step, a base's
 * after its walk, on the writer thread again. The log writer leaves those a base needs free for it. The
 * checkpoint thread then syncs the drives (every batch the image covers is durable), streams the image into
 * checkpoint records and syncs again; finally, on the writer thread, the pages are thawed, segments
 * emptied by garbage collection before the capture are freed, and after a base the previous chain's
 * segments too. Taken every so many logged bytes, every so many seconds when anything was logged, when
 * garbage collection asks, and on close; this bounds how much log a recovery replays.
 */
final class Checkpointer {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpointer.class);
    /** A chain of more deltas than this is closed by a base, so recovery reads a bounded chain. */
    static final int MAX_DELTAS = 64;

    private final DriveSet drives;
    private final MetadataFiles metadata;
    private final MapStore maps;
    private final SegmentTable segments;
    private final Lock lock;
    private final LogWriter writer;
    private final AtomicInteger nextMapId;
    private final EngineCounters counters;
    private final long everyBytes;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("basalt-checkpoint").daemon(true).factory());
    private final AtomicLong loggedSince = new AtomicLong();
    private final AtomicBoolean queued = new AtomicBoolean();
    /** Streams records to the drives: one segment's worth, the only buffer a checkpoint needs. */
    private final ByteBuffer records;
    /** Serializes writing checkpoints: the last periodic one and the final one at close may meet. */
    private final Object writing = new Object();
    /** The chain the next checkpoint continues; guarded by {@link #writing}, read by captures on the writer. */
    private volatile CheckpointSegments.Chain chain;
    /** A capture whose image was not written lost its changes: the next checkpoint must be a base. */
    private volatile boolean needsBase;
    /** Whether the data directory still holds a checkpoint file of drive format 2, to delete. */
    private boolean legacyFile;

    Checkpointer(DriveSet drives, MetadataFiles metadata, MapStore maps, SegmentTable segments, Lock lock,
                 LogWriter writer, AtomicInteger nextMapId, EngineCounters counters, long everyBytes, long everyMillis,
                 CheckpointSegments.Chain chain, boolean legacyFile) {
        this.drives = drives;
        this.metadata = metadata;
        this.maps = maps;
        this.segments = segments;
        this.lock = lock;
        this.writer = writer;
        this.nextMapId = nextMapId;
        this.counters = counters;
        this.everyBytes = everyBytes;
        this.chain = chain;
        this.legacyFile = legacyFile;
        this.records = ByteBuffer.allocateDirect(drives.segmentSize());
        keepSegmentsForABaseAfter(chain);
        thread.scheduleWithFixedDelay(() -> {
            if (loggedSince.get() > 0) {
                requestSoon();
            }
        }, everyMillis, everyMillis, TimeUnit.MILLISECONDS);
    }

    void logged(long bytes) {
        if (loggedSince.addAndGet(bytes) >= everyBytes) {
            requestSoon();
        }
    }

    /** A checkpoint in the background, unless one is already queued. */
    void requestSoon() {
        if (queued.compareAndSet(false, true)) {
            try {
                thread.execute(() -> {
                    queued.set(false);
                    try {
                        take();
                    } catch (IOException | RuntimeException e) {
                        LOG.error("checkpoint failed; the next one will retry", e);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            } catch (RejectedExecutionException closing) {
                queued.set(false);
            }
        }
    }

    /**
     * A checkpoint captured after this call, durable when it returns. Waits without a time limit: every
     * step either completes or fails (a closed writer refuses the capture, a drive error fails the
     * engine), so the caller always learns which.
     */
    void checkpointNow() throws IOException, InterruptedException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            thread.execute(() -> {
                try {
                    take();
                    done.complete(null);
                } catch (Exception e) {
                    done.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            throw new IOException("the storage engine is closing; no checkpoint is taken", e);
        }
        await(done);
    }

    private void take() throws IOException, InterruptedException {
        long started = System.nanoTime();
        Capture capture = onWriter(this::capture);
        boolean written = false;
        try {
            if (capture.image().link().isBase()) {
                capture.image().collectPages();
                onWriter(() -> reserve(capture));
            }
            write(capture);
            written = true;
        } finally {
            // Waited for, so that a caller (garbage collection) sees the freed segments when this returns
            // instead of picking more victims with no free segment left to move their blocks into.
            CompletableFuture<Void> freed = new CompletableFuture<>();
            boolean done = written;
            writer.submit(new LogOp.Task(() -> {
                finished(capture, done);
                freed.complete(null);
            }, freed::completeExceptionally));
            if (written) {
                await(freed);
            }
        }
        counters.checkpointed(capture.image().bytes(), capture.image().link().isBase());
        LOG.debug("checkpoint {} ({}) at sequence {}: {} pages, {} bytes in {} ms", capture.image().link().number(),
                capture.image().link().isBase() ? "base" : "delta", capture.image().sequence(),
                capture.image().pageCount(), capture.image().bytes(), (System.nanoTime() - started) / 1_000_000);
    }

    /** The final checkpoint after the writer stopped: nothing changes any more, so no pause is needed. */
    void takeFinal() throws IOException {
        thread.shutdown();
        Capture capture = capture();
        if (capture.image().link().isBase()) {
            capture.image().collectPages();
            reserve(capture);
        }
        write(capture);
    }

    /** A step that must run on the writer thread, between batches. */
    private interface WriterStep<T> {
        T run() throws IOException;
    }

    /** Runs {@code step} on the writer thread and waits for it (without a time limit, see {@link #checkpointNow}). */
    private <T> T onWriter(WriterStep<T> step) throws IOException, InterruptedException {
        CompletableFuture<T> done = new CompletableFuture<>();
        writer.submit(new LogOp.Task(() -> {
            try {
                done.complete(step.run());
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        }, done::completeExceptionally));
        return await(done);
    }

    /**
     * A captured image, the chain it continues, the fresh segments taken for its records (by
     * {@link #reserve}, writer thread) and how long the writer stood still for it.
     */
    private record Capture(Checkpoint.Image image, CheckpointSegments.Chain current, List<Integer> fresh,
                           long captureNanos) {
    }

    /**
     * Writer thread (or a stopped writer): the image, under the engine lock. A delta's pages are known
     * now; a base's are walked afterwards by {@link Checkpoint.Image#collectPages}, on the checkpoint
     * thread, while the writer goes on.
     */
    private Capture capture() throws IOException {
        long started = System.nanoTime();
        CheckpointSegments.Chain current;
        Checkpoint.Image image;
        lock.lock();
        try {
            loggedSince.set(0);
            current = chain;
            // Recovery reads the base and at most about as many delta bytes again.
            boolean base = current.isEmpty() || needsBase || current.deltas() >= MAX_DELTAS
                    || current.deltaBytes() > current.baseBytes();
            long number = current.next();
            Checkpoint.Link link = base ? new Checkpoint.Link(number, 0, number)
                    : new Checkpoint.Link(number, current.last(), current.base());
            image = Checkpoint.capture(maps, segments, link, writer.sequence(), nextMapId.get());
            int fresh = base ? 0 : segmentsFor(image, current);
            if (fresh > 0 && segments.freeCount() - fresh <= writer.keptForCheckpoints()) {
                // The delta would take the segments the next base needs or the one garbage collection
                // needs to go on, and only a base lets the chain's segments go: a base instead, under
                // the same number (the delta was never written).
                maps.thaw(image.generation());
                image = Checkpoint.capture(maps, segments, new Checkpoint.Link(number, 0, number), writer.sequence(),
                        nextMapId.get());
            }
            // From here the image holds the changes: if it is not written, only a base can record them.
            needsBase = true;
            // Numbers are never reused, even by a checkpoint that fails: its records may be on a drive.
            chain = new CheckpointSegments.Chain(number + 1, current.last(), current.base(), current.segments(),
                    current.baseBytes(), current.deltaBytes(), current.deltas(), current.appendSegment(),
                    current.appendOffset());
        } finally {
            lock.unlock();
        }
        Capture capture = new Capture(image, current, new ArrayList<>(), System.nanoTime() - started);
        if (!image.link().isBase()) {
            // A delta's size is known now: its segments are taken in the same step, so no batch takes them first.
            try {
                reserve(capture);
            } catch (IOException e) {
                finished(capture, false);
                throw e;
            }
        }
        return capture;
    }

    /** Fresh segments {@code image}'s records need after the chain {@code current}; its pages must be collected. */
    private int segmentsFor(Checkpoint.Image image, CheckpointSegments.Chain current) {
        return CheckpointSegments.segmentsNeeded(image.bytes(),
                current.appendSegment() < 0 ? -1 : current.appendOffset(), segments.segmentSize());
    }

    /**
     * What the next base is given by the log writer ({@link LogWriter#keepForCheckpoints}): the segments
     * for the base and the deltas of {@code chain} together, which bound a base of the same pages.
     */
    private void keepSegmentsForABaseAfter(CheckpointSegments.Chain chain) {
        writer.keepForCheckpoints(CheckpointSegments.segmentsNeeded(chain.baseBytes() + chain.deltaBytes(), -1,
                segments.segmentSize()));
    }

    /**
     * Writer thread (or a stopped writer): takes the fresh segments the image's records need from the
     * free list, whose only other user is the writer itself, which leaves what a base needs. O(segments
     * taken). A checkpoint that finds too few fails (and the next one retries). A delta's were taken at
     * its capture; a base's are taken after its pages were collected.
     */
    private Void reserve(Capture capture) throws IOException {
        long started = System.nanoTime();
        lock.lock();
        try {
            int needed = segmentsFor(capture.image(), capture.current());
            while (capture.fresh().size() < needed) {
                Integer segment = segments.takeForCheckpoint();
                if (segment == null) {
                    capture.fresh().forEach(segments::releaseCheckpoint);
                    capture.fresh().clear();
                    throw new IOException("no free segment left for checkpoint " + capture.image().link().number()
                            + " (" + needed + " needed)");
                }
                capture.fresh().add(segment);
            }
            return null;
        } finally {
            lock.unlock();
            counters.checkpointCaptured(capture.captureNanos() + System.nanoTime() - started);
        }
    }

    /**
     * Syncs the drives, so that every batch the image covers is durable, writes the records and syncs
     * them. Never after a drive error: the image may name blocks whose writes were lost with it.
     */
    private void write(Capture capture) throws IOException {
        synchronized (writing) {
            CheckpointSegments.Chain current = chain;
            writer.syncAll(); // fails once the engine has stopped after a drive error
            CheckpointSegments.Writer out = new CheckpointSegments.Writer(drives, capture.image().link(),
                    capture.image().sequence(), current.appendSegment(), current.appendOffset(), capture.fresh(),
                    records);
            try {
                capture.image().writeTo(out);
                long bytes = out.finish();
                if (bytes != capture.image().bytes()) {
                    throw new IllegalStateException("checkpoint " + capture.image().link().number() + " wrote "
                            + bytes + " bytes, " + capture.image().bytes() + " were expected");
                }
            } catch (IOException e) {
                writer.failStop("writing a checkpoint", e);
                throw e;
            }
            writer.syncAll();
            // A base starts a chain of its own; a delta extends the one it was captured on.
            Checkpoint.Link link = capture.image().link();
            CheckpointSegments.Chain before = capture.current();
            long imageBytes = capture.image().bytes();
            Set<Integer> held = new HashSet<>(out.segments());
            if (!link.isBase()) {
                held.addAll(before.segments());
            }
            chain = new CheckpointSegments.Chain(chain.next(), link.number(), link.base(), held,
                    link.isBase() ? imageBytes : before.baseBytes(),
                    link.isBase() ? 0 : before.deltaBytes() + imageBytes, link.isBase() ? 0 : before.deltas() + 1,
                    out.endSegment(), out.endOffset());
            keepSegmentsForABaseAfter(chain);
            needsBase = false;
            if (legacyFile) {
                // The drives hold a checkpoint now; the file of drive format 2 would only be stale.
                metadata.delete(LegacyCheckpointFile.FILE);
                legacyFile = false;
            }
        }
    }

    /**
     * Stops taking checkpoints and waits for one in progress to end, so none is written after this returns.
     * Never by interrupting: an interrupt during a drive sync closes the drive's channel for every thread.
     */
    void stop() throws InterruptedException {
        thread.shutdown();
        if (!thread.awaitTermination(30, TimeUnit.SECONDS)) {
            LOG.warn("a checkpoint is still being written after 30 s");
        }
    }

    /**
     * Writer thread, after the capture's image was written or given up: its pages may change in place
     * again. If it was written, what it covers can be freed: segments emptied before the capture, and
     * after a base the previous chain's segments. If not, the segments taken for it are free again.
     */
    private void finished(Capture capture, boolean written) {
        lock.lock();
        try {
            maps.thaw(capture.image().generation());
            if (!written) {
                capture.fresh().forEach(segments::releaseCheckpoint);
                return;
            }
            long sequence = capture.image().sequence();
            for (int s = 0; s < segments.count(); s++) {
                SegmentTable.State state = segments.state(s);
                if (state == SegmentTable.State.EMPTY && segments.lastSequence(s) <= sequence && segments.release(s)) {
                    counters.segmentReclaimed();
                } else if (state == SegmentTable.State.CHECKPOINT && !chain.segments().contains(s)) {
                    segments.releaseCheckpoint(s);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private static <T> T await(CompletableFuture<T> future) throws IOException, InterruptedException {
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("checkpoint failed: " + e.getCause(), e.getCause());
        }
    }
}
