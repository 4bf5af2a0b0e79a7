package io.basalt.service.engine;

import io.basalt.service.engine.drive.MetadataFiles;
import io.basalt.service.engine.log.Checkpoint;
import io.basalt.service.engine.log.LogOp;
import io.basalt.service.engine.log.LogWriter;
import io.basalt.service.engine.log.SegmentTable;
import io.basalt.service.engine.map.MapStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;

/**
 * Takes checkpoints: the state is captured on the writer thread between batches (a pass over the
 * page directories that freezes the pages copy-on-write: a short pause of the log), then the drives
 * are synced and the image written atomically on the checkpoint thread, and finally, on the writer
 * thread, the pages are thawed and segments emptied by garbage collection before the capture are
 * freed. Taken every so many logged bytes, every so many seconds when anything was logged, when
 * garbage collection asks, and on close; this bounds how much log a recovery replays.
 */
final class Checkpointer {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpointer.class);
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
    /** Serializes writing checkpoints: the last periodic one and the final one at close may meet. */
    private final Object writing = new Object();
    /** Sequence of the newest checkpoint written; an older capture is never written over it. */
    private long writtenSequence = -1;

    Checkpointer(MetadataFiles metadata, MapStore maps, SegmentTable segments, Lock lock, LogWriter writer,
                 AtomicInteger nextMapId, EngineCounters counters, long everyBytes, long everyMillis) {
        this.metadata = metadata;
        this.maps = maps;
        this.segments = segments;
        this.lock = lock;
        this.writer = writer;
        this.nextMapId = nextMapId;
        this.counters = counters;
        this.everyBytes = everyBytes;
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
        }
    }

    /** A checkpoint captured after this call, durable when it returns. */
    void checkpointNow() throws IOException, InterruptedException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        thread.execute(() -> {
            try {
                take();
                done.complete(null);
            } catch (Exception e) {
                done.completeExceptionally(e);
            }
        });
        await(done);
    }

    private void take() throws IOException, InterruptedException {
        long started = System.nanoTime();
        CompletableFuture<Checkpoint.Image> captured = new CompletableFuture<>();
        writer.submit(new LogOp.Task(() -> captured.complete(capture())));
        Checkpoint.Image image = await(captured);
        write(image);
        // Waited for, so that a caller (garbage collection) sees the freed segments when this returns
        // instead of picking more victims with no free segment left to move their blocks into.
        CompletableFuture<Void> freed = new CompletableFuture<>();
        writer.submit(new LogOp.Task(() -> {
            freeEmptied(image);
            freed.complete(null);
        }));
        await(freed);
        counters.checkpointed();
        LOG.debug("checkpoint at sequence {} in {} ms", image.sequence(),
                (System.nanoTime() - started) / 1_000_000);
    }

    /** The final checkpoint after the writer stopped: nothing changes any more, so no pause is needed. */
    void takeFinal() throws IOException {
        thread.shutdown();
        Checkpoint.Image image = capture();
        write(image);
    }

    /**
     * Syncs the drives, so that every batch the image covers is durable, and writes the image. Never
     * after a drive error: the image may name blocks whose writes were lost with it.
     */
    private void write(Checkpoint.Image image) throws IOException {
        synchronized (writing) {
            if (image.sequence() < writtenSequence) {
                return;
            }
            writer.syncAll(); // fails once the engine has stopped after a drive error
            // A failed write of the file leaves the previous checkpoint, still valid; the next one retries.
            Checkpoint.write(metadata, image);
            writtenSequence = image.sequence();
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

    private Checkpoint.Image capture() {
        long started = System.nanoTime();
        lock.lock();
        try {
            loggedSince.set(0);
            return Checkpoint.capture(maps, segments, writer.sequence(), nextMapId.get());
        } finally {
            lock.unlock();
            counters.checkpointCaptured(System.nanoTime() - started);
        }
    }

    /** After {@code image} was written: its pages may change in place again, and what it covers can be freed. */
    private void freeEmptied(Checkpoint.Image image) {
        lock.lock();
        try {
            maps.thaw(image.generation());
            for (int s = 0; s < segments.count(); s++) {
                if (segments.state(s) == SegmentTable.State.EMPTY && segments.lastSequence(s) <= image.sequence()
                        && segments.release(s)) {
                    counters.segmentReclaimed();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private static <T> T await(CompletableFuture<T> future) throws IOException, InterruptedException {
        try {
            return future.get(120, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("checkpoint failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("checkpoint did not finish within 120 s", e);
        }
    }
}
