package io.basalt.service.engine;

import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.log.BlockCodec;
import io.basalt.service.engine.log.LogFormat;
import io.basalt.service.engine.log.LogWriter;
import io.basalt.service.engine.log.SegmentTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;

/**
 * The background scrub (see docs/storage-engine.md, "Scrub"): on its own thread, at most
 * {@code bytesPerSecond}, it reads every sealed log segment whole and checks every byte written there
 * (segment header, batch headers and entries, every stored block's CRC32C, the padding). On an
 * erasure-coded node it also checks every chunk against the parity and rewrites the chunks it finds
 * damaged from the others ({@link DriveSet#segmentChecker}); what it cannot repair (more chunks damaged
 * than the code has parity left for, or any damage without erasure coding) it reports. A pass ends,
 * pauses {@value #PAUSE_MILLIS} ms, and the next one begins.
 */
final class Scrubber {
    private static final Logger LOG = LoggerFactory.getLogger(Scrubber.class);
    /** Between passes, so that a node with little data does not scrub it over and over. */
    static final long PAUSE_MILLIS = 60_000;

    private final DriveSet drives;
    private final SegmentTable segments;
    private final Lock lock;
    private final LogWriter writer;
    private final BlockCodec codec = new BlockCodec();
    private final Object signal = new Object();
    private final AtomicLong passes = new AtomicLong();
    private final AtomicLong scannedBytes = new AtomicLong();
    private final AtomicLong repairedChunks = new AtomicLong();
    private final AtomicLong repairedBytes = new AtomicLong();
    private final AtomicLong unrepairableFound = new AtomicLong();
    /** The segments the last finished pass found damaged beyond repair. */
    private volatile List<Integer> unrepairable = List.of();
    private DriveSet.SegmentChecker checker;
    private volatile Thread thread;
    private volatile boolean running;
    private volatile long bytesPerSecond;

    Scrubber(DriveSet drives, SegmentTable segments, Lock lock, LogWriter writer) {
        this.drives = drives;
        this.segments = segments;
        this.lock = lock;
        this.writer = writer;
    }

    /** Starts scrubbing in the background at most {@code rate} bytes a second. */
    synchronized void start(long rate) {
        if (rate <= 0) {
            throw new IllegalArgumentException("a scrub rate must be positive, not " + rate);
        }
        if (thread != null) {
            throw new IllegalStateException("the scrub runs already");
        }
        bytesPerSecond = rate;
        running = true;
        thread = Thread.ofPlatform().name("basalt-scrub").daemon(true).start(this::run);
        LOG.info("scrub started: every sealed segment, at most {} MiB/s", rate >> 20);
    }

    void stop(long millis) throws InterruptedException {
        Thread running = thread;
        this.running = false;
        synchronized (signal) {
            signal.notifyAll();
        }
        if (running != null) {
            running.join(millis);
        }
    }

    ScrubStatus status() {
        return new ScrubStatus(running, bytesPerSecond, passes.get(), scannedBytes.get(), repairedChunks.get(),
                repairedBytes.get(), unrepairableFound.get(), unrepairable);
    }

    private void run() {
        while (running) {
            try {
                pass(bytesPerSecond);
                pause(PAUSE_MILLIS);
            } catch (IOException | RuntimeException e) {
                if (writer.failure() != null) {
                    LOG.warn("scrub stops: the engine stopped after a drive error");
                    return;
                }
                LOG.error("scrub pass failed; the next starts in {} ms", PAUSE_MILLIS, e);
                pause(PAUSE_MILLIS);
            }
        }
    }

    /**
     * One pass over every sealed segment, at most {@code rate} bytes a second (0: as fast as the drives
     * go); the scrub thread's, or a test's while the thread does not run. Returns the segments found
     * damaged beyond repair.
     */
    synchronized List<Integer> pass(long rate) throws IOException {
        if (checker == null) {
            checker = drives.segmentChecker();
        }
        long started = System.nanoTime();
        long scanned = 0;
        List<Integer> damaged = new ArrayList<>();
        for (int segment = 0; segment < segments.count() && (running || thread == null); segment++) {
            int written = pin(segment);
            if (written < 0) {
                continue;
            }
            try {
                if (!check(segment, written)) {
                    damaged.add(segment);
                }
            } finally {
                unpin(segment);
            }
            scanned += written;
            scannedBytes.addAndGet(written);
            if (rate > 0) {
                long due = started + scanned * 1_000_000_000L / rate;
                long wait = (due - System.nanoTime()) / 1_000_000;
                if (wait > 0) {
                    pause(wait);
                }
            }
        }
        passes.incrementAndGet();
        unrepairable = List.copyOf(damaged);
        return unrepairable;
    }

    /** Whether the segment's bytes pass (after a repair, if one was needed); logs and counts what it found. */
    private boolean check(int segment, int written) throws IOException {
        int alignment = drives.writeAlignment();
        DriveSet.SegmentScrub result;
        try {
            result = checker.check(segment, written,
                    bytes -> LogFormat.segmentIntact(bytes, segment, written, alignment, codec));
        } catch (IOException e) {
            LOG.error("scrub: segment {} cannot be read ({}); reads of its blocks fail with media errors",
                    segment, e.getMessage());
            unrepairableFound.incrementAndGet();
            return false;
        }
        if (result.repairedChunks() > 0) {
            // The rewritten chunks count as repaired once durable.
            writer.syncAll();
            repairedChunks.addAndGet(result.repairedChunks());
            repairedBytes.addAndGet(result.repairedBytes());
            LOG.warn("scrub repaired {} damaged chunks of segment {} ({} bytes) from the other drives",
                    result.repairedChunks(), segment, result.repairedBytes());
        }
        if (!result.intact()) {
            unrepairableFound.incrementAndGet();
            LOG.error("scrub: segment {} is damaged beyond what {} repairs; reads of its damaged blocks fail "
                    + "with media errors", segment, drives.erasureCode().enabled()
                    ? "erasure code " + drives.erasureCode() : "a node without erasure coding");
        }
        return result.intact();
    }

    /**
     * Pins a sealed segment (it cannot be freed and rewritten while the scrub reads or repairs it) and
     * returns its written bytes; -1 if it is not a sealed segment holding batches.
     */
    private int pin(int segment) {
        lock.lock();
        try {
            if (segments.state(segment) != SegmentTable.State.SEALED
                    || segments.written(segment) <= LogFormat.SEGMENT_HEADER) {
                return -1;
            }
            segments.pin(segment);
            return (int) segments.written(segment);
        } finally {
            lock.unlock();
        }
    }

    private void unpin(int segment) {
        lock.lock();
        try {
            segments.unpin(segment);
        } finally {
            lock.unlock();
        }
    }

    private void pause(long millis) {
        synchronized (signal) {
            try {
                if (running) {
                    signal.wait(millis);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
