package io.basalt.service.engine;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Running totals the engine keeps for its metrics and statistics. */
public final class EngineCounters {
    private final LongAdder hostBytesWritten = new LongAdder();
    private final LongAdder driveBytesWritten = new LongAdder();
    private final LongAdder relocatedBytes = new LongAdder();
    private final LongAdder syncs = new LongAdder();
    private final LongAdder throttled = new LongAdder();
    private final LongAdder capacityExceeded = new LongAdder();
    private final LongAdder checksumErrors = new LongAdder();
    private final LongAdder readErrors = new LongAdder();
    private final LongAdder pooledReads = new LongAdder();
    private final LongAdder checkpoints = new LongAdder();
    private final LongAdder segmentsReclaimed = new LongAdder();
    private final AtomicLong longestCheckpointPauseNanos = new AtomicLong();
    private volatile long lastCheckpointPauseNanos;
    private volatile long lastCheckpointBytes;
    private volatile boolean lastCheckpointBase;

    public void hostBytesWritten(long bytes) {
        hostBytesWritten.add(bytes);
    }

    public void driveBytesWritten(long bytes) {
        driveBytesWritten.add(bytes);
    }

    public void relocated(long bytes) {
        relocatedBytes.add(bytes);
    }

    public void synced() {
        syncs.increment();
    }

    public void throttled() {
        throttled.increment();
    }

    public void capacityExceeded() {
        capacityExceeded.increment();
    }

    public void checksumError() {
        checksumErrors.increment();
    }

    public void readError() {
        readErrors.increment();
    }

    public void pooledRead() {
        pooledReads.increment();
    }

    /**
     * The writer paused for {@code nanos} for a checkpoint: its capture under the engine lock (the
     * changed pages of a delta; for a base only the freezing of every page directory, O(maps)) and the
     * taking of its segments (docs/storage-engine.md, Recovery).
     */
    public void checkpointCaptured(long nanos) {
        lastCheckpointPauseNanos = nanos;
        longestCheckpointPauseNanos.accumulateAndGet(nanos, Math::max);
    }

    public long lastCheckpointPauseNanos() {
        return lastCheckpointPauseNanos;
    }

    public long longestCheckpointPauseNanos() {
        return longestCheckpointPauseNanos.get();
    }

    /** A checkpoint is durable: {@code bytes} of image, a whole base or a delta of the changes. */
    public void checkpointed(long bytes, boolean base) {
        checkpoints.increment();
        lastCheckpointBytes = bytes;
        lastCheckpointBase = base;
    }

    /** Image bytes of the last checkpoint written. */
    public long lastCheckpointBytes() {
        return lastCheckpointBytes;
    }

    /** Whether the last checkpoint written was a base (every page) rather than a delta. */
    public boolean lastCheckpointBase() {
        return lastCheckpointBase;
    }

    public void segmentReclaimed() {
        segmentsReclaimed.increment();
    }

    public long hostBytesWritten() {
        return hostBytesWritten.sum();
    }

    public long driveBytesWritten() {
        return driveBytesWritten.sum();
    }

    public long relocatedBytes() {
        return relocatedBytes.sum();
    }

    public long syncs() {
        return syncs.sum();
    }

    public long throttledEpisodes() {
        return throttled.sum();
    }

    public long capacityErrors() {
        return capacityExceeded.sum();
    }

    public long checksumErrors() {
        return checksumErrors.sum();
    }

    /** Drive reads that failed with an I/O error (not checksum mismatches). */
    public long readErrors() {
        return readErrors.sum();
    }

    /** Reads that were not all in memory and went to the read pool. */
    public long pooledReads() {
        return pooledReads.sum();
    }

    public long checkpoints() {
        return checkpoints.sum();
    }

    public long segmentsReclaimed() {
        return segmentsReclaimed.sum();
    }

    /** Bytes written to drives per byte written by hosts; 1.0 before any host write. */
    public double writeAmplification() {
        long host = hostBytesWritten();
        return host == 0 ? 1.0 : (double) driveBytesWritten() / host;
    }
}
