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
    private final AtomicIntegerArray failed;
    private final String[] failures;
    private volatile int failedCount;
    /** Failed drives, one bit per index, as recorded in the reservation slots of the drives left. */
    private final java.util.concurrent.atomic.AtomicInteger failedBits = new java.util.concurrent.atomic.AtomicInteger();
    /** A drive failed since the failures were last recorded durably on the others. */
    private volatile boolean unrecorded;
    private long reserved;
    private final ThreadLocal<Staging> staging;

    /**
     * @param drives   the node's drives in configuration order, null for one missing or unreadable at
     *                 start (marked failed with {@code reasons})
     * @param recorded drives recorded as failed on the others (one bit each): they stay failed even if
     *                 they can be read again, since writes they lost left stale chunks on them
     */
    StripedSegments(Drive[] drives, String[] reasons, int recorded, ErasureCode code, int segmentSize) {
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
        this.segmentCount = (int) Math.min(Integer.MAX_VALUE, slots * drives.length / width);
        this.staging = ThreadLocal.withInitial(() -> new Staging(k, code.m()));
        for (int d = 0; d < drives.length; d++) {
            if (drives[d] == null) {
                markFailed(d, reasons[d]);
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
        if (failed.get(drive) != 0) {
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
        for (int index = 0; index < width; index++) {
            int drive = driveOf(segment, index);
            if (failed.get(drive) != 0) {
                continue;
            }
            try {
                drives[drive].write(new ByteBuffer[] {chunks[index].duplicate()}, position(segment, index, firstRow * chunk));
            } catch (IOException e) {
                markFailed(drive, "write error: " + e.getMessage());
            }
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
        if (failed.get(drive) == 0) {
            try {
                drives[drive].sync();
            } catch (IOException e) {
                markFailed(drive, "sync error: " + e.getMessage());
            }
        }
        checkProtected("syncing drive " + drive);
        if (unrecorded) {
            reserveSequences(reserved);
        }
    }

    /** The highest sequence number reserved on any drive left. */
    long reservedSequence() throws IOException {
        long highest = 0;
        for (int d = 0; d < drives.length; d++) {
            if (failed.get(d) == 0) {
                try {
                    highest = Math.max(highest, drives[d].reservedSequence());
                } catch (IOException e) {
                    markFailed(d, "read error: " + e.getMessage());
                }
            }
        }
        checkProtected("reading sequence reservations");
        reserved = highest;
        return highest;
    }

    /**
     * Reserves on every drive left. A drive that fails it is marked failed: the reservation is on every
     * other drive, and recovery takes the highest found.
     */
    void reserveSequences(long sequence) throws IOException {
        unrecorded = false;
        int failures = failedBits.get();
        for (int d = 0; d < drives.length; d++) {
            if (failed.get(d) == 0) {
                try {
                    drives[d].reserveSequences(sequence, failures);
                } catch (IOException e) {
                    markFailed(d, "write error: " + e.getMessage());
                }
            }
        }
        checkProtected("reserving sequence numbers");
        reserved = sequence;
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

    private void markFailed(int drive, String reason) {
        if (failed.compareAndSet(drive, 0, 1)) {
            synchronized (failures) {
                failures[drive] = reason;
                failedCount++;
            }
            failedBits.getAndUpdate(bits -> bits | 1 << drive);
            unrecorded = true;
            LOG.error("drive {} ({}) failed and is no longer used: {}; its chunks are rebuilt from the other drives "
                            + "({} of {} drives failed, erasure code {} survives {})", drive,
                    drives[drive] == null ? "missing" : drives[drive].path(), reason, failedCount, drives.length, code,
                    code.m());
        }
    }

    boolean isFailed(int drive) {
        return failed.get(drive) != 0;
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
