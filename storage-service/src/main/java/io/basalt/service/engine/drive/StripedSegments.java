package io.basalt.service.engine.drive;

import io.basalt.service.engine.ec.ErasureCode;
import io.basalt.service.engine.ec.ErasureCoder;
import io.basalt.service.engine.ec.ErasureCoders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.IntStream;

/**
 * The node's segments as erasure-coded stripes (see docs/storage-engine.md, "Stripe layout"). A
 * segment of {@code segmentSize} bytes is k data chunks and m parity chunks of {@code segmentSize / k}
 * bytes, each on another drive. Its bytes go to the data chunks in rows of {@value #ROW} bytes: row r
 * holds bytes {@code [r × 4096, (r+1) × 4096)}, {@code 4096 / k} of them at offset {@code r × 4096 / k}
 * of each data chunk, and the parity chunks hold the parity of each row at the same offset.
 *
 * <p>Writes are whole rows (the log writer pads its batches, checkpoint records are 4 KiB aligned): a
 * row is written once and never rewritten while it holds anything, so no parity of flushed data is
 * ever overwritten (the write hole). Only recovery's erasing of unflushed batches rewrites part of a
 * row, by reading, changing and writing the row whole.
 *
 * <p>A drive that fails a read, write or sync, or was missing or unreadable at start, is marked failed
 * and never touched again until the node restarts; its chunks are rebuilt from the others when read,
 * and stripes are still written whole on the drives left (degraded, at the full width). With more than
 * m drives failed, writes and syncs fail (the engine stops writing) and reads of chunks that cannot be
 * rebuilt fail.
 *
 * <p>A failed drive may be replaced ({@link #replace}): the new drive is written like any other from then
 * on, and {@link DriveRebuild} rebuilds its chunks segment by segment; until its chunk of a segment is
 * rebuilt (and recorded durably, {@link #recordRebuilt}) reads rebuild that chunk from the others and the
 * drive still counts as failed for the fail-stop rule.
 */
final class StripedSegments {
    /** Bytes of one row across the data chunks: one 4 KiB sector of the log. */
    static final int ROW = 4096;
    /** Rows {@link #restoreParity} reads at once: 256 KiB of the segment. */
    private static final int RESTORE_ROWS = 64;
    private static final Logger LOG = LoggerFactory.getLogger(StripedSegments.class);

    private final Drive[] drives;
    private final ErasureCode code;
    private final ErasureCoder coder;
    private final int k;
    private final int width;
    private final int chunk;
    private final int chunkArea;
    private final int segmentCount;
    /** Per drive: {@link #OK}, {@link #FAILED} or {@link #REBUILDING}. */
    private final AtomicIntegerArray failed;
    static final int OK = 0;
    static final int FAILED = 1;
    static final int REBUILDING = 2;
    /** Drive slots of segment size / k on every drive, the least any drive has. */
    private final long slotsPerDrive;
    /** Replaced and rebuilding drives; written in every reservation round. */
    private DriveTable table;
    /** Segments below which the rebuilding drive's chunks are rebuilt and durable. */
    private volatile int rebuiltSegments;
    /**
     * Stripe writes take it shared, a rebuild of a piece of one exclusively: the rebuild must not read
     * the other chunks of a row while a write has put that row on some drives and not yet on others.
     */
    private final ReentrantReadWriteLock stripeLock = new ReentrantReadWriteLock();
    private final String[] failures;
    private volatile int failedCount;
    /** Failed drives, one bit per index, as recorded in the reservation slots of the drives left. */
    private final java.util.concurrent.atomic.AtomicInteger failedBits = new java.util.concurrent.atomic.AtomicInteger();
    /** A drive failed since the failures were last recorded durably on the others. */
    private volatile boolean unrecorded;
    /** Guards {@link #reserved}, {@link #table} and each drive's reservation slots: one round at a time. */
    private final Object reservationRound = new Object();
    private long reserved;
    private final ThreadLocal<Staging> staging;

    /**
     * @param drives   the node's drives in configuration order, null for one missing or unreadable at
     *                 start (marked failed with {@code reasons})
     * @param recorded drives recorded as failed on the others (one bit each): they stay failed even if
     *                 they can be read again, since writes they lost left stale chunks on them
     */
    StripedSegments(Drive[] drives, String[] reasons, int recorded, DriveTable table, ErasureCode code,
                    int segmentSize) {
        this.drives = drives.clone();
        this.code = code;
        this.k = code.k();
        this.width = code.width();
        this.coder = ErasureCoders.create(k, code.m());
        this.chunk = ROW / k;
        this.chunkArea = segmentSize / k;
        this.failed = new AtomicIntegerArray(drives.length);
        this.failures = new String[drives.length];
        long slots = Long.MAX_VALUE;
        for (Drive drive : drives) {
            if (drive != null) {
                slots = Math.min(slots, (long) drive.superblock().segmentCount() * k);
            }
        }
        this.slotsPerDrive = slots;
        this.segmentCount = (int) Math.min(Integer.MAX_VALUE, slots * drives.length / width);
        this.staging = ThreadLocal.withInitial(() -> new Staging(k, code.m()));
        this.table = table;
        for (int d = 0; d < drives.length; d++) {
            if (drives[d] == null) {
                markFailed(d, reasons[d]);
            } else if (d == table.rebuilding()) {
                failed.set(d, REBUILDING);
                failedCount++;
                failedBits.getAndUpdate(bits -> bits | 1 << table.rebuilding());
                rebuiltSegments = table.rebuiltSegments();
                LOG.warn("drive {} ({}) is being rebuilt: {} of {} segments done, the rebuild resumes", d,
                        drives[d].path(), table.rebuiltSegments(), segmentCount);
            } else if ((recorded & 1 << d) != 0) {
                markFailed(d, "recorded as failed on the other drives");
            }
        }
    }

    int segmentCount() {
        return segmentCount;
    }

    ErasureCode code() {
        return code;
    }

    /** The drive holding chunk {@code index} (data 0..k-1, then parity) of segment {@code segment}. */
    int driveOf(int segment, int index) {
        return (int) (((long) segment * width + (index + segment) % width) % drives.length);
    }

    private long position(int segment, int index, int chunkOffset) {
        long slot = ((long) segment * width + (index + segment) % width) / drives.length;
        return drives[driveOf(segment, index)].superblock().firstSegmentOffset() + slot * chunkArea + chunkOffset;
    }

    /** Fills {@code destination} with the segment's bytes from {@code offset}, rebuilding lost chunks. */
    void read(int segment, int offset, ByteBuffer destination) throws IOException {
        int length = destination.remaining();
        if (length == 0) {
            return;
        }
        int firstRow = offset / ROW;
        int rows = (offset + length - 1) / ROW - firstRow + 1;
        ByteBuffer[] chunks = staging.get().chunks(rows * chunk);
        readRows(segment, firstRow, chunks, -1);
        copyOut(chunks, firstRow, offset, destination);
        destination.position(destination.position() + length);
    }

    /** Copies the segment's bytes from {@code offset} out of the rows' data chunks into the destination, in place. */
    private void copyOut(ByteBuffer[] chunks, int firstRow, int offset, ByteBuffer destination) {
        int at = destination.position();
        int end = offset + destination.remaining();
        for (int logical = offset; logical < end; ) {
            int within = logical % chunk;
            int n = Math.min(chunk - within, end - logical);
            destination.put(at + logical - offset, chunks[(logical % ROW) / chunk],
                    (logical / ROW - firstRow) * chunk + within, n);
            logical += n;
        }
    }

    /**
     * Reads the data chunks of {@code chunks[0].limit() / chunk} rows from {@code firstRow} into
     * {@code chunks[0..k)}, rebuilding those on failed drives (and chunk {@code distrusted}, if not
     * -1) from the others.
     */
    private void readRows(int segment, int firstRow, ByteBuffer[] chunks, int distrusted) throws IOException {
        int[] lost = staging.get().lost;
        int lostCount = 0;
        int available = 0;
        for (int index = 0; index < width && available < k; index++) {
            if (index == distrusted || !readChunk(segment, index, firstRow, chunks[index])) {
                lost[lostCount++] = index;
            } else {
                available++;
            }
        }
        if (available < k) {
            throw new IOException("segment " + segment + ": only " + available + " of its " + width
                    + " chunks are readable, " + k + " are needed (failed drives: " + failedDrives() + ")");
        }
        if (lostCount > 0) {
            coder.reconstruct(chunks, Arrays.copyOf(lost, lostCount));
        }
    }

    /** Reads chunk {@code index}'s part of the rows from {@code firstRow} into {@code into}; false if its drive failed (now or before). */
    boolean readChunk(int segment, int index, int firstRow, ByteBuffer into) {
        int drive = driveOf(segment, index);
        int state = failed.get(drive);
        if (state == FAILED || state == REBUILDING && segment >= rebuiltSegments) {
            return false;
        }
        try {
            drives[drive].read(into.duplicate(), position(segment, index, firstRow * chunk));
            return true;
        } catch (IOException e) {
            markFailed(drive, "read error: " + e.getMessage());
            return false;
        }
    }

    /**
     * Reads like {@link #read} but rebuilds from parity every data chunk the range touches, one chunk
     * at a time, until {@code verify} accepts the bytes: for a block whose checksum failed although
     * no drive reported an error (a chunk damaged on its drive). Returns whether a version passed.
     */
    boolean readRebuilt(int segment, int offset, ByteBuffer destination, DriveSet.Verifier verify) throws IOException {
        int length = destination.remaining();
        int firstRow = offset / ROW;
        int lastRow = (offset + length - 1) / ROW;
        int firstIndex = lastRow > firstRow ? 0 : (offset % ROW) / chunk;
        int lastIndex = lastRow > firstRow ? k - 1 : ((offset + length - 1) % ROW) / chunk;
        ByteBuffer[] chunks = staging.get().chunks((lastRow - firstRow + 1) * chunk);
        int at = destination.position();
        for (int suspect = firstIndex; suspect <= lastIndex; suspect++) {
            readRows(segment, firstRow, chunks, suspect);
            copyOut(chunks, firstRow, offset, destination);
            if (verify.accepts(destination.duplicate().position(at).limit(at + length))) {
                destination.position(at + length);
                // A damaged chunk may be the first sign of a drive file truncated under the node (its
                // lost bytes read back as zeros) while no write has come to sync it.
                failIfNotIntact(driveOf(segment, suspect));
                return true;
            }
        }
        return false;
    }

    /**
     * Writes the parts from {@code offset} as whole rows with their parity on every drive not failed.
     * A range that does not cover whole rows (recovery's erasing only) is read, changed and written back
     * whole.
     */
    void write(int segment, int offset, ByteBuffer[] parts) throws IOException {
        int length = 0;
        for (ByteBuffer part : parts) {
            length += part.remaining();
        }
        if (length == 0) {
            return;
        }
        if (offset % ROW != 0 || length % ROW != 0) {
            int start = offset / ROW * ROW;
            int end = (offset + length + ROW - 1) / ROW * ROW;
            ByteBuffer rows = ByteBuffer.allocateDirect(end - start);
            read(segment, start, rows);
            rows.position(offset - start);
            for (ByteBuffer part : parts) {
                rows.put(part.duplicate());
            }
            write(segment, start, new ByteBuffer[] {rows.clear()});
            return;
        }
        int firstRow = offset / ROW;
        int rows = length / ROW;
        Staging buffers = staging.get();
        ByteBuffer[] chunks = buffers.chunks(rows * chunk);
        int logical = 0;
        for (ByteBuffer part : parts) {
            for (int from = part.position(); from < part.limit(); ) {
                int within = logical % chunk;
                int n = Math.min(chunk - within, part.limit() - from);
                chunks[(logical % ROW) / chunk].put((logical / ROW) * chunk + within, part, from, n);
                from += n;
                logical += n;
            }
        }
        coder.encode(buffers.data(), buffers.parity());
        stripeLock.readLock().lock();
        try {
            for (int index = 0; index < width; index++) {
                int drive = driveOf(segment, index);
                if (failed.get(drive) == FAILED) {
                    continue;
                }
                try {
                    drives[drive].write(new ByteBuffer[] {chunks[index].duplicate()},
                            position(segment, index, firstRow * chunk));
                } catch (IOException e) {
                    markFailed(drive, "write error: " + e.getMessage());
                }
            }
        } finally {
            stripeLock.readLock().unlock();
        }
        checkProtected("writing segment " + segment);
    }

    /**
     * Writes {@code from} over chunk {@code index}'s part of the rows from {@code firstRow}, in place: the
     * scrub's repair of a damaged chunk. False if the drive failed (now or before).
     */
    boolean writeChunk(int segment, int index, int firstRow, ByteBuffer from) {
        int drive = driveOf(segment, index);
        if (failed.get(drive) != 0) {
            return false;
        }
        try {
            drives[drive].write(new ByteBuffer[] {from}, position(segment, index, firstRow * chunk));
            return true;
        } catch (IOException e) {
            markFailed(drive, "write error: " + e.getMessage());
            return false;
        }
    }

    ErasureCoder coder() {
        return coder;
    }

    /** Bytes of each chunk per row. */
    int chunkPerRow() {
        return chunk;
    }

    /**
     * Rewrites every parity chunk of the rows covering {@code [offset, offset + length)} that does not
     * match the parity of the rows' data; returns how many chunk ranges it rewrote. For recovery, on rows
     * whose data it adopts although they may never have been synced: a power cut in the middle of their
     * write may have kept every data chunk but not the parity, which reads never look at while every
     * drive works, and a later drive failure would rebuild garbage from it. The data chunks are only
     * read (the checksums of what they hold have passed), so a cut during this leaves the rows as they
     * were. Rows are processed {@value #RESTORE_ROWS} at a time.
     */
    int restoreParity(int segment, int offset, int length) throws IOException {
        if (length <= 0) {
            return 0;
        }
        int firstRow = offset / ROW;
        int endRow = (offset + length + ROW - 1) / ROW;
        ByteBuffer stored = ByteBuffer.allocateDirect(Math.min(endRow - firstRow, RESTORE_ROWS) * chunk);
        int rewritten = 0;
        for (int row = firstRow; row < endRow; row += RESTORE_ROWS) {
            int rows = Math.min(RESTORE_ROWS, endRow - row);
            Staging buffers = staging.get();
            ByteBuffer[] chunks = buffers.chunks(rows * chunk);
            readRows(segment, row, chunks, -1);
            coder.encode(buffers.data(), buffers.parity());
            for (int index = k; index < width; index++) {
                int drive = driveOf(segment, index);
                if (failed.get(drive) != 0) {
                    continue;
                }
                long position = position(segment, index, row * chunk);
                try {
                    drives[drive].read(stored.clear().limit(rows * chunk), position);
                    if (!stored.flip().equals(chunks[index].duplicate().clear().limit(rows * chunk))) {
                        drives[drive].write(new ByteBuffer[] {chunks[index].duplicate()}, position);
                        rewritten++;
                    }
                } catch (IOException e) {
                    markFailed(drive, "parity restore error: " + e.getMessage());
                }
            }
        }
        checkProtected("restoring the parity of segment " + segment);
        return rewritten;
    }

    /**
     * Syncs one drive; a drive whose sync fails is marked failed (its chunks are rebuilt from the others).
     * Before it returns, every failure so far is recorded durably on the drives left, so that the
     * writes a failed drive lost are never read from it after a restart.
     */
    void sync(int drive) throws IOException {
        if (failed.get(drive) != FAILED) {
            try {
                drives[drive].sync();
            } catch (IOException e) {
                markFailed(drive, "sync error: " + e.getMessage());
            }
            // Every flush checks that the drive is still there: a truncated or removed drive file takes
            // writes and syncs without an error, but what it held is gone (or will be at a restart).
            failIfNotIntact(drive);
        }
        checkProtected("syncing drive " + drive);
        if (unrecorded) {
            reserveSequences(0);
        }
    }

    /** The highest sequence number reserved on any drive left. */
    long reservedSequence() throws IOException {
        long highest = 0;
        for (int d = 0; d < drives.length; d++) {
            if (failed.get(d) != FAILED) {
                try {
                    highest = Math.max(highest, drives[d].reservedSequence());
                } catch (IOException e) {
                    markFailed(d, "read error: " + e.getMessage());
                }
            }
        }
        checkProtected("reading sequence reservations");
        synchronized (reservationRound) {
            reserved = highest;
        }
        return highest;
    }

    /**
     * Reserves on every drive left. A drive that fails it is marked failed: the reservation is on every
     * other drive, and recovery takes the highest found.
     */
    void reserveSequences(long sequence) throws IOException {
        synchronized (reservationRound) {
            // The rebuild's rounds record its progress with the reservation as it is: never lower it.
            reserved = Math.max(reserved, sequence);
            unrecorded = false;
            int rebuilding = -1;
            for (int d = 0; d < drives.length; d++) {
                if (failed.get(d) == REBUILDING) {
                    rebuilding = d;
                }
            }
            table = new DriveTable(table.stamp() + 1, failedBits.get(), rebuilding,
                    rebuilding < 0 ? 0 : rebuiltSegments, table.replaced());
            for (int d = 0; d < drives.length; d++) {
                if (failed.get(d) != FAILED) {
                    try {
                        drives[d].reserveSequences(reserved, table);
                    } catch (IOException e) {
                        markFailed(d, "write error: " + e.getMessage());
                    }
                }
            }
        }
        checkProtected("reserving sequence numbers");
        if (unrecorded) {
            reserveSequences(sequence);
        }
    }

    /**
     * The rule of fail-stop with erasure coding: a drive error costs that drive only while at most m
     * drives have failed, since every stripe written or synced is still whole on k of the others;
     * beyond m, data acknowledged may be gone and the engine must stop writing.
     */
    private void checkProtected(String what) throws IOException {
        if (failedCount > code.m()) {
            throw new IOException(what + ": " + failedCount + " drives failed, more than the " + code.m()
                    + " erasure code " + code + " survives (failed drives: " + failedDrives() + ")");
        }
    }

    /** Marks the drive failed if it is no longer intact ({@link Drive#checkIntact}). */
    private void failIfNotIntact(int drive) {
        if (failed.get(drive) == FAILED) {
            return;
        }
        try {
            drives[drive].checkIntact();
        } catch (IOException e) {
            markFailed(drive, e.getMessage());
        }
    }

    private void markFailed(int drive, String reason) {
        int before = failed.getAndSet(drive, FAILED);
        if (before != FAILED) {
            synchronized (failures) {
                failures[drive] = before == REBUILDING ? "failed while being rebuilt: " + reason : reason;
                if (before == OK) {
                    failedCount++;
                }
            }
            failedBits.getAndUpdate(bits -> bits | 1 << drive);
            unrecorded = true;
            LOG.error("drive {} ({}) failed and is no longer used: {}; its chunks are rebuilt from the other drives "
                            + "({} of {} drives failed, erasure code {} survives {})", drive,
                    drives[drive] == null ? "missing" : drives[drive].path(), reason, failedCount, drives.length, code,
                    code.m());
        }
    }

    /** The drive at {@code index} now (null if it was missing at start). */
    Drive drive(int index) {
        return drives[index];
    }

    /** {@link #OK}, {@link #FAILED} or {@link #REBUILDING}. */
    int state(int drive) {
        return failed.get(drive);
    }

    /** The drive being rebuilt, or -1. */
    int rebuilding() {
        for (int d = 0; d < drives.length; d++) {
            if (failed.get(d) == REBUILDING) {
                return d;
            }
        }
        return -1;
    }

    int rebuiltSegments() {
        return rebuiltSegments;
    }

    /** Bytes of a drive's chunk of one segment. */
    int chunkBytes() {
        return chunkArea;
    }

    /** The replacement recorded for drive {@code index}, or null. */
    DriveTable.Replacement replacementOf(int index) {
        synchronized (reservationRound) {
            return table.replacementOf(index);
        }
    }

    /**
     * Puts {@code replacement} (formatted for position {@code index}) in the place of failed drive
     * {@code index}: written like any other drive from now on, read only for segments it has been rebuilt
     * for, and recorded durably on every drive (the new one included) before this returns, with the
     * rebuild at segment 0. The caller then rebuilds it ({@link DriveRebuild}).
     *
     * @return the drive it replaced, to be closed with the others (a reader may still be using it)
     * @throws IllegalStateException if the drive is not failed, another drive is being rebuilt, or the
     *                               replacement is too small
     */
    Drive replace(int index, Drive replacement) throws IOException {
        Drive replaced;
        synchronized (reservationRound) {
            if (failed.get(index) != FAILED) {
                throw new IllegalStateException("drive " + index + " has not failed; only a failed drive is replaced");
            }
            if (rebuilding() >= 0) {
                throw new IllegalStateException("drive " + rebuilding() + " is being rebuilt; replace drive " + index
                        + " when that rebuild is done");
            }
            if ((long) replacement.superblock().segmentCount() * k < slotsPerDrive) {
                throw new IllegalStateException("drive " + replacement.path() + " is too small: it holds "
                        + (long) replacement.superblock().segmentCount() * k + " chunks of " + chunkArea
                        + " bytes, the node's drives " + slotsPerDrive);
            }
            stripeLock.writeLock().lock();
            try {
                replaced = drives[index];
                drives[index] = replacement;
                rebuiltSegments = 0;
                synchronized (failures) {
                    failures[index] = null;
                }
                failed.set(index, REBUILDING);
            } finally {
                stripeLock.writeLock().unlock();
            }
            table = table.withReplacement(new DriveTable.Replacement(index, replacement.superblock().driveId(),
                    replacement.path()));
            LOG.warn("drive {} replaced by {}; its chunks are being rebuilt", index, replacement.path());
            reserveSequences(0);
        }
        return replaced;
    }

    /** The index of the chunk of {@code segment} on {@code drive}, or -1 if the segment has none there. */
    int chunkOn(int segment, int drive) {
        for (int index = 0; index < width; index++) {
            if (driveOf(segment, index) == drive) {
                return index;
            }
        }
        return -1;
    }

    /**
     * Rebuilds {@code rows} rows from {@code firstRow} of chunk {@code index} of {@code segment}, on the
     * drive being rebuilt, from the other drives, and writes them to it. Stripe writes wait meanwhile.
     *
     * @return false if the drive is no longer being rebuilt (it failed)
     * @throws IOException if fewer than k of the other chunks are readable
     */
    boolean rebuildRows(int segment, int index, int firstRow, int rows) throws IOException {
        int drive = driveOf(segment, index);
        Staging buffers = staging.get();
        ByteBuffer[] chunks = buffers.chunks(rows * chunk);
        int[] lost = buffers.lost;
        stripeLock.writeLock().lock();
        try {
            if (failed.get(drive) != REBUILDING) {
                return false;
            }
            int lostCount = 0;
            lost[lostCount++] = index;
            int available = 0;
            for (int other = 0; other < width && available < k; other++) {
                if (other != index) {
                    if (readChunk(segment, other, firstRow, chunks[other])) {
                        available++;
                    } else {
                        lost[lostCount++] = other;
                    }
                }
            }
            if (available < k) {
                throw new IOException("segment " + segment + " cannot be rebuilt: only " + available + " of its "
                        + width + " chunks are readable, " + k + " are needed (failed drives: " + failedDrives() + ")");
            }
            coder.reconstruct(chunks, Arrays.copyOf(lost, lostCount));
            try {
                drives[drive].write(new ByteBuffer[] {chunks[index].duplicate()}, position(segment, index, firstRow * chunk));
            } catch (IOException e) {
                markFailed(drive, "write error: " + e.getMessage());
                return false;
            }
            return true;
        } finally {
            stripeLock.writeLock().unlock();
        }
    }

    /**
     * Syncs the drive being rebuilt and then records durably, on every drive, that its chunks of the
     * segments below {@code segments} are rebuilt; from then on they are read from it. At
     * {@link #segmentCount} the drive is whole again and no longer counts as failed.
     *
     * @return false if the drive failed (its sync, or meanwhile)
     */
    boolean recordRebuilt(int drive, int segments) throws IOException {
        sync(drive);
        synchronized (reservationRound) {
            if (failed.get(drive) != REBUILDING) {
                return false;
            }
            rebuiltSegments = segments;
            if (segments >= segmentCount) {
                synchronized (failures) {
                    failed.set(drive, OK);
                    failedCount--;
                }
                failedBits.getAndUpdate(bits -> bits & ~(1 << drive));
                LOG.warn("drive {} ({}) is rebuilt and back in service", drive, drives[drive].path());
            }
            reserveSequences(0);
            return failed.get(drive) != FAILED;
        }
    }

    boolean isFailed(int drive) {
        return failed.get(drive) == FAILED;
    }

    /** Failed drives and why, by index. */
    List<DriveSet.FailedDrive> failedDrives() {
        synchronized (failures) {
            return IntStream.range(0, drives.length).filter(d -> failures[d] != null)
                    .mapToObj(d -> new DriveSet.FailedDrive(d, failures[d])).toList();
        }
    }

    /** One thread's chunk buffers, grown to the largest stripe range it coded, and arrays reused per call. */
    private static final class Staging {
        private final ByteBuffer[] buffers;
        private final ByteBuffer[] views;
        private final ByteBuffer[] data;
        private final ByteBuffer[] parity;
        final int[] lost;

        Staging(int k, int m) {
            buffers = new ByteBuffer[k + m];
            views = new ByteBuffer[k + m];
            data = new ByteBuffer[k];
            parity = new ByteBuffer[m];
            lost = new int[k + m];
        }

        /** The data chunks of the last {@link #chunks} call. */
        ByteBuffer[] data() {
            System.arraycopy(views, 0, data, 0, data.length);
            return data;
        }

        /** The parity chunks of the last {@link #chunks} call. */
        ByteBuffer[] parity() {
            System.arraycopy(views, data.length, parity, 0, parity.length);
            return parity;
        }

        ByteBuffer[] chunks(int bytes) {
            for (int i = 0; i < buffers.length; i++) {
                if (buffers[i] == null || buffers[i].capacity() < bytes) {
                    buffers[i] = ByteBuffer.allocateDirect(Math.max(bytes, 8192));
                }
                views[i] = buffers[i].clear().limit(bytes);
            }
            return views;
        }
    }
}
