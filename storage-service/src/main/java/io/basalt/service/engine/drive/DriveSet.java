package io.basalt.service.engine.drive;

import io.basalt.service.engine.ec.ErasureCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Objects;
import java.util.List;
import java.util.UUID;

/**
 * The node's drives seen as one row of numbered segments. Without erasure coding drive 0's segments
 * come first, then drive 1's; with it every segment is a stripe across k+m drives
 * ({@link StripedSegments}).
 */
public final class DriveSet implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(DriveSet.class);

    /** Missing drives are null (only on an erasure-coded node). */
    private final List<Drive> drives;
    private final int[] firstSegment;
    private final int segmentSize;
    private final int segmentCount;
    /** Null without erasure coding. */
    private final StripedSegments stripes;

    private DriveSet(List<Drive> drives, int segmentSize, StripedSegments stripes) {
        this.drives = Collections.unmodifiableList(new ArrayList<>(drives));
        this.segmentSize = segmentSize;
        this.stripes = stripes;
        this.firstSegment = new int[drives.size()];
        int next = 0;
        for (int i = 0; i < drives.size() && stripes == null; i++) {
            firstSegment[i] = next;
            next = Math.addExact(next, drives.get(i).superblock().segmentCount());
        }
        this.segmentCount = stripes == null ? next : stripes.segmentCount();
    }

    /** Opens the drives in configuration order without erasure coding. */
    public static DriveSet open(NodeMedia media, List<Path> paths, UUID nodeId, int segmentSize, long createBytes,
                                boolean formatBlank) throws IOException {
        return open(media, paths, nodeId, segmentSize, createBytes, formatBlank, ErasureCode.NONE);
    }

    /**
     * Opens the drives in configuration order; see {@link Drive#open} for which are created or formatted.
     * A new node (no drive there yet) is formatted with {@code requested}, or with the default for its
     * drive count if null. An existing node keeps the layout its drives were formatted with (a
     * {@code requested} layout that differs is refused); if it is erasure-coded, up to m drives that are
     * missing or refused are marked failed instead of stopping the start.
     *
     * @throws DriveFormatException if there are fewer drives than k+m, a drive is refused and the layout
     *                              does not survive that, or the drives disagree about the layout
     */
    public static DriveSet open(NodeMedia media, List<Path> paths, UUID nodeId, int segmentSize, long createBytes,
                                boolean formatBlank, ErasureCode requested) throws IOException {
        Drive[] opened = new Drive[paths.size()];
        IOException[] refused = new IOException[paths.size()];
        ErasureCode newNode = requested != null ? requested : ErasureCode.defaultFor(paths.size());
        try {
            ErasureCode layout = null;
            for (int i = 0; i < paths.size(); i++) {
                try {
                    // A blank device formatted here gets a new node's layout; added to an existing node of
                    // another layout, the check below refuses it.
                    opened[i] = Drive.open(media, paths.get(i), nodeId, i, segmentSize, createBytes, formatBlank,
                            newNode, false);
                } catch (IOException e) {
                    refused[i] = e;
                    continue;
                }
                if (opened[i] != null) {
                    ErasureCode found = opened[i].superblock().erasure();
                    if (layout != null && !layout.equals(found)) {
                        throw new DriveFormatException("drive " + paths.get(i) + " has erasure code " + found
                                + " but drive " + paths.get(0) + "'s have " + layout);
                    }
                    layout = found;
                }
            }
            if (layout == null && firstRefusal(refused) == null) {
                layout = newNode;
                checkWidth(layout, paths.size());
                for (int i = 0; i < paths.size(); i++) {
                    opened[i] = Drive.open(media, paths.get(i), nodeId, i, segmentSize, createBytes, formatBlank,
                            layout, true);
                }
            } else if (layout == null) {
                throw firstRefusal(refused);
            } else {
                if (requested != null && !requested.equals(layout)) {
                    throw new DriveFormatException("the node's drives have erasure code " + layout + ", not the "
                            + requested + " configured; a node keeps the layout its drives were formatted with");
                }
                checkWidth(layout, paths.size());
            }
            if (!layout.enabled()) {
                if (firstRefusal(refused) != null) {
                    throw firstRefusal(refused);
                }
                // A drive added to the list of a node without erasure coding is created, as before.
                for (int i = 0; i < paths.size(); i++) {
                    if (opened[i] == null) {
                        opened[i] = Drive.open(media, paths.get(i), nodeId, i, segmentSize, createBytes,
                                formatBlank, layout, true);
                    }
                }
                return new DriveSet(List.of(opened), segmentSize, null);
            }
            String[] reasons = new String[paths.size()];
            int lost = 0;
            for (int i = 0; i < paths.size(); i++) {
                if (opened[i] == null) {
                    reasons[i] = refused[i] != null ? "refused at start: " + refused[i].getMessage() : "missing at start";
                    lost++;
                }
            }
            if (lost > layout.m()) {
                DriveFormatException e = new DriveFormatException(lost + " of the node's drives are missing or refused,"
                        + " more than the " + layout.m() + " erasure code " + layout + " survives: " + String.join("; ",
                        Arrays.stream(reasons).filter(Objects::nonNull).toList()));
                throw e;
            }
            int recorded = 0;
            for (int i = 0; i < paths.size(); i++) {
                if (opened[i] != null) {
                    try {
                        opened[i].reservedSequence();
                        recorded |= opened[i].recordedFailures();
                    } catch (IOException e) {
                        reasons[i] = "read error at start: " + e.getMessage();
                        opened[i].close();
                        opened[i] = null;
                        lost++;
                    }
                }
            }
            lost += Integer.bitCount(recorded & ~lostMask(opened));
            if (lost > layout.m()) {
                throw new DriveFormatException(lost + " of the node's drives are missing, refused or recorded as failed,"
                        + " more than the " + layout.m() + " erasure code " + layout + " survives: "
                        + String.join("; ", Arrays.stream(reasons).filter(Objects::nonNull).toList()));
            }
            LOG.info("drives erasure-coded {}: {} drives, {} failed", layout, paths.size(), lost);
            return new DriveSet(Arrays.asList(opened), segmentSize,
                    new StripedSegments(opened, reasons, recorded, layout, segmentSize));
        } catch (IOException | RuntimeException e) {
            for (Drive drive : opened) {
                try {
                    if (drive != null) {
                        drive.close();
                    }
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** One bit per drive not opened. */
    private static int lostMask(Drive[] opened) {
        int mask = 0;
        for (int i = 0; i < opened.length; i++) {
            if (opened[i] == null) {
                mask |= 1 << i;
            }
        }
        return mask;
    }

    private static IOException firstRefusal(IOException[] refused) {
        for (IOException e : refused) {
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    private static void checkWidth(ErasureCode layout, int drives) throws DriveFormatException {
        if (layout.enabled() && drives < layout.width()) {
            throw new DriveFormatException("erasure code " + layout + " needs at least " + layout.width()
                    + " drives, the node has " + drives);
        }
        if (layout.enabled() && drives > Integer.SIZE) {
            throw new DriveFormatException("an erasure-coded node has at most " + Integer.SIZE + " drives, not " + drives);
        }
    }

    /** A drive that was marked failed, and why. */
    public record FailedDrive(int index, String reason) {
    }

    /**
     * What a scrub of one segment found: whether its bytes pass their checksums (after the repair, if
     * any), and how many chunks (and bytes of them) it rewrote from redundancy.
     */
    public record SegmentScrub(boolean intact, int repairedChunks, long repairedBytes) {
    }

    /** Checks whole segments for a scrub, repairing what redundancy allows; one per thread. */
    public interface SegmentChecker {
        /** Checks the segment's first {@code length} bytes, which {@code verify} must accept. */
        SegmentScrub check(int segment, int length, Verifier verify) throws IOException;
    }

    /**
     * A checker for the scrub's thread. Erasure-coded: every chunk is read, and damaged ones are found
     * and rewritten (see {@code StripeScrub}); without erasure coding the segment can only be verified.
     * Holds a segment's worth of buffers.
     */
    public SegmentChecker segmentChecker() {
        if (stripes != null) {
            return new StripeScrub(stripes, segmentSize)::scrub;
        }
        ByteBuffer bytes = ByteBuffer.allocateDirect(segmentSize);
        return (segment, length, verify) -> {
            read(segment, 0, bytes.clear().limit(length));
            return new SegmentScrub(verify.accepts(bytes.flip()), 0, 0);
        };
    }

    /** Checks the bytes a read rebuilt from parity produced. */
    public interface Verifier {
        boolean accepts(ByteBuffer bytes);
    }

    /** The layout of the node's segments. */
    public ErasureCode erasureCode() {
        return stripes == null ? ErasureCode.NONE : stripes.code();
    }

    /**
     * Where a log batch or a checkpoint write must end, relative to the segment's start: a stripe's row
     * when erasure-coded (rows are written whole, once), else 8 bytes.
     */
    public int writeAlignment() {
        return stripes == null ? 8 : StripedSegments.ROW;
    }

    /** Drives marked failed (only on an erasure-coded node), by index, with the reason. */
    public List<FailedDrive> failedDrives() {
        return stripes == null ? List.of() : stripes.failedDrives();
    }

    /** Marks in {@code dirty} (by drive) every drive holding part of {@code segment}. */
    public void markWritten(int segment, boolean[] dirty) {
        if (stripes == null) {
            dirty[driveOf(segment)] = true;
            return;
        }
        for (int index = 0; index < stripes.code().width(); index++) {
            dirty[stripes.driveOf(segment, index)] = true;
        }
    }

    public int segmentSize() {
        return segmentSize;
    }

    public int segmentCount() {
        return segmentCount;
    }

    public List<Drive> drives() {
        return drives;
    }

    /** The drive holding global segment {@code segment} (its first data chunk's, if erasure-coded). */
    public int driveOf(int segment) {
        if (stripes != null) {
            return stripes.driveOf(segment, 0);
        }
        for (int i = drives.size() - 1; i >= 0; i--) {
            if (segment >= firstSegment[i]) {
                return i;
            }
        }
        throw new IllegalArgumentException("segment " + segment);
    }

    /** Writes the parts one after another from {@code offset}, with one gathering write where possible. */
    public void write(int segment, int offset, ByteBuffer[] parts) throws IOException {
        if (stripes != null) {
            stripes.write(segment, offset, parts);
            return;
        }
        int drive = driveOf(segment);
        drives.get(drive).write(parts, drives.get(drive).position(segment - firstSegment[drive], offset));
    }

    public void read(int segment, int offset, ByteBuffer destination) throws IOException {
        if (stripes != null) {
            stripes.read(segment, offset, destination);
            return;
        }
        int drive = driveOf(segment);
        drives.get(drive).read(destination, drives.get(drive).position(segment - firstSegment[drive], offset));
    }

    /**
     * Rebuilds the range from parity, one data chunk at a time, until {@code verify} accepts it: for a
     * block whose checksum failed. False at once without erasure coding.
     */
    public boolean readRebuilt(int segment, int offset, ByteBuffer destination, Verifier verify)
            throws IOException {
        return stripes != null && stripes.readRebuilt(segment, offset, destination, verify);
    }

    /**
     * Makes the parity of the stripe rows covering the range match their data, rewriting the parity
     * chunks that do not (see {@code StripedSegments.restoreParity}); returns how many chunk ranges were
     * rewritten, 0 at once without erasure coding. Recovery's, for rows it adopts that may never have
     * been synced; the caller syncs.
     */
    public int restoreParity(int segment, int offset, int length) throws IOException {
        return stripes == null ? 0 : stripes.restoreParity(segment, offset, length);
    }

    /**
     * Reads only if no wait for a drive is needed; see {@link DriveIo#readCached}. Never on an
     * erasure-coded node, whose reads gather chunks from several drives.
     */
    public boolean readCached(int segment, int offset, ByteBuffer destination) {
        if (stripes != null) {
            return false;
        }
        int drive = driveOf(segment);
        return drives.get(drive).readCached(destination, drives.get(drive).position(segment - firstSegment[drive], offset));
    }

    /** The highest sequence number reserved on any drive (0 if none); before the log writer starts. */
    public long reservedSequence() throws IOException {
        if (stripes != null) {
            return stripes.reservedSequence();
        }
        long highest = 0;
        for (Drive drive : drives) {
            highest = Math.max(highest, drive.reservedSequence());
        }
        return highest;
    }

    /** Reserves sequence numbers up to {@code sequence} on every drive, durably; the log writer's thread. */
    public void reserveSequences(long sequence) throws IOException {
        if (stripes != null) {
            stripes.reserveSequences(sequence);
            return;
        }
        for (Drive drive : drives) {
            drive.reserveSequences(sequence);
        }
    }

    /** Syncs a drive; on an erasure-coded node a failed drive is skipped, one that fails the sync marked failed. */
    public void sync(int drive) throws IOException {
        if (stripes != null) {
            stripes.sync(drive);
            return;
        }
        drives.get(drive).sync();
    }

    public void syncAll() throws IOException {
        for (int d = 0; d < drives.size(); d++) {
            sync(d);
        }
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        for (Drive drive : drives) {
            try {
                if (drive != null) {
                    drive.close();
                }
            } catch (IOException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
