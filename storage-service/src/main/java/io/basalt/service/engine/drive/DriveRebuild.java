package io.basalt.service.engine.drive;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Rebuilds a replaced drive's chunks from the other drives on its own thread ({@code basalt-rebuild}),
 * segment by segment from where the last recorded progress left it, at most at a configured rate so that
 * host I/O keeps most of the drives' throughput. About once a second (and at the end) it syncs the drive
 * and records durably how far it got ({@link StripedSegments#recordRebuilt}): after a power cut the
 * chunks rebuilt since are simply rebuilt again, and those recorded were durable before the record.
 */
public final class DriveRebuild implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(DriveRebuild.class);
    /** Bytes of the drive's chunk rebuilt at once, holding stripe writes off meanwhile. */
    private static final int PIECE_BYTES = 64 << 10;
    private static final long RECORD_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final StripedSegments stripes;
    private final int drive;
    private final LongSupplier bytesPerSecond;
    private final long totalBytes;
    private final Thread thread;
    private final Object wakeUp = new Object();
    private volatile boolean stopping;
    private volatile long doneBytes;
    private volatile long startNanos;
    private volatile long bytesThisRun;
    private volatile String error;
    private volatile boolean finished;

    /** What a rebuild has done: bytes of the drive's chunks rebuilt (durably or not) of all it holds. */
    public record Progress(int drive, long doneBytes, long totalBytes, long bytesPerSecond, boolean running,
                           String error) {
        /** 0 to 100. */
        public double percent() {
            return totalBytes == 0 ? 100.0 : 100.0 * doneBytes / totalBytes;
        }

        /** Seconds left at the rate measured so far, -1 if unknown. */
        public long etaSeconds() {
            return !running ? 0 : bytesPerSecond <= 0 ? -1 : (totalBytes - doneBytes) / bytesPerSecond;
        }
    }

    /** @param bytesPerSecond the rate limit, read at every piece (0: none) */
    DriveRebuild(StripedSegments stripes, int drive, LongSupplier bytesPerSecond) {
        this.stripes = stripes;
        this.drive = drive;
        this.bytesPerSecond = bytesPerSecond;
        long total = 0;
        long done = 0;
        for (int segment = 0; segment < stripes.segmentCount(); segment++) {
            if (stripes.chunkOn(segment, drive) >= 0) {
                total += stripes.chunkBytes();
                if (segment < stripes.rebuiltSegments()) {
                    done += stripes.chunkBytes();
                }
            }
        }
        this.totalBytes = total;
        this.doneBytes = done;
        this.thread = Thread.ofPlatform().name("basalt-rebuild").daemon(true).unstarted(this);
    }

    void start() {
        startNanos = System.nanoTime();
        thread.start();
    }

    int drive() {
        return drive;
    }

    Progress progress() {
        long elapsed = System.nanoTime() - startNanos;
        long rate = elapsed <= 0 ? 0 : (long) (bytesThisRun * 1e9 / elapsed);
        return new Progress(drive, doneBytes, totalBytes, rate, !finished, error);
    }

    /** Stops the thread where it is (its progress so far recorded or rebuilt again later) and waits for it. */
    void stop() throws InterruptedException {
        stopping = true;
        synchronized (wakeUp) {
            wakeUp.notifyAll();
        }
        // Never interrupted: an interrupt during a drive's I/O closes its channel for every thread.
        thread.join();
    }

    @Override
    public void run() {
        int chunk = stripes.chunkBytes();
        int pieceBytes = Math.min(PIECE_BYTES, chunk);
        int rowBytes = StripedSegments.ROW / stripes.code().k();
        int pieceRows = pieceBytes / rowBytes;
        int rowsPerChunk = chunk / rowBytes;
        long nextPieceNanos = System.nanoTime();
        long recordedNanos = System.nanoTime();
        try {
            for (int segment = stripes.rebuiltSegments(); segment < stripes.segmentCount() && !stopping; segment++) {
                int index = stripes.chunkOn(segment, drive);
                for (int row = 0; index >= 0 && row < rowsPerChunk && !stopping; row += pieceRows) {
                    int rows = Math.min(pieceRows, rowsPerChunk - row);
                    if (!stripes.rebuildRows(segment, index, row, rows)) {
                        fail("drive " + drive + " failed during its rebuild");
                        return;
                    }
                    doneBytes += (long) rows * rowBytes;
                    bytesThisRun += (long) rows * rowBytes;
                    nextPieceNanos = throttle(nextPieceNanos, (long) rows * rowBytes);
                }
                if (stopping) {
                    break;
                }
                boolean last = segment + 1 == stripes.segmentCount();
                if (last || System.nanoTime() - recordedNanos >= RECORD_EVERY_NANOS) {
                    if (!stripes.recordRebuilt(drive, segment + 1)) {
                        fail("drive " + drive + " failed during its rebuild");
                        return;
                    }
                    recordedNanos = System.nanoTime();
                }
            }
            if (!stopping) {
                LOG.info("drive {} rebuilt: {} MiB", drive, doneBytes >> 20);
            }
        } catch (IOException | RuntimeException e) {
            fail("the rebuild of drive " + drive + " stopped: " + e.getMessage());
            LOG.error("the rebuild of drive {} stopped", drive, e);
        } finally {
            finished = true;
        }
    }

    private void fail(String why) {
        error = why;
        LOG.error(why);
    }

    /** Waits until the rate allows the next piece; returns when that one may start. */
    private long throttle(long nextPieceNanos, long bytes) {
        long rate = bytesPerSecond.getAsLong();
        if (rate <= 0) {
            return System.nanoTime();
        }
        long next = Math.max(nextPieceNanos, System.nanoTime() - RECORD_EVERY_NANOS)
                + (long) (bytes * 1e9 / rate);
        synchronized (wakeUp) {
            for (long wait = next - System.nanoTime(); wait > 0 && !stopping; wait = next - System.nanoTime()) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(wakeUp, wait);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    stopping = true;
                }
            }
        }
        return next;
    }
}
