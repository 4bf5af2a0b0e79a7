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
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
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
    /** Why a configured drive that is not there at start is left out. */
    private static final String MISSING = "missing at start";

    /** Rebuild rate when none is configured. */
    public static final long DEFAULT_REBUILD_BYTES_PER_SECOND = 64L << 20;

    /** Missing drives are null (only on an erasure-coded node). */
    private final List<Drive> drives;
    private final int[] firstSegment;
    private final int segmentSize;
    private final int segmentCount;
    /** Null without erasure coding. */
    private final StripedSegments stripes;
    private final NodeMedia media;
    private final UUID nodeId;
    /** The configured paths, by index. */
    private final List<Path> paths;
    /** Drives replaced while the node runs: closed with the others, since a reader may still hold one. */
    private final List<Drive> retired = new ArrayList<>();
    private volatile long rebuildBytesPerSecond = DEFAULT_REBUILD_BYTES_PER_SECOND;
    /** The current or last rebuild, null if none ran since the start; read without the lock (metrics). */
    private volatile DriveRebuild rebuild;
    private boolean closed;

    private DriveSet(List<Drive> drives, int segmentSize, StripedSegments stripes, NodeMedia media, UUID nodeId,
                     List<Path> paths) {
        this.drives = Collections.unmodifiableList(new ArrayList<>(drives));
        this.segmentSize = segmentSize;
        this.stripes = stripes;
        this.media = media;
        this.nodeId = nodeId;
        this.paths = List.copyOf(paths);
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
                markFormatted(opened);
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
                return new DriveSet(List.of(opened), segmentSize, null, media, nodeId, paths);
            }
            String[] reasons = new String[paths.size()];
            for (int i = 0; i < paths.size(); i++) {
                if (opened[i] == null) {
                    reasons[i] = refused[i] != null ? "refused at start: " + refused[i].getMessage() : MISSING;
                }
            }
            int recorded = 0;
            DriveTable table = null;
            for (int i = 0; i < paths.size(); i++) {
                if (opened[i] != null && !readReservations(opened[i], i, reasons)) {
                    opened[i].close();
                    opened[i] = null;
                } else if (opened[i] != null) {
                    recorded |= opened[i].recordedFailures();
                    DriveTable newest = opened[i].newestTable();
                    if (newest != null && (table == null || newest.stamp() > table.stamp())) {
                        table = newest;
                    }
                }
            }
            if (table == null && createUnlogged(media, paths, opened, reasons, nodeId, segmentSize,
                    createBytes, layout)) {
                LOG.warn("the node's drives record no log batch yet: the drives missing at start are created, as a"
                        + " new node's are (its first start was cut short)");
            }
            if (table == null) {
                table = DriveTable.EMPTY; // written before drive tables existed: any failure recorded anywhere counts
            } else {
                recorded = table.failedDrives();
                for (DriveTable.Replacement replacement : table.replaced()) {
                    openReplacement(media, replacement, paths.get(replacement.index()), opened, reasons,
                            nodeId, segmentSize, layout);
                }
            }
            int lost = Integer.bitCount(lostMask(opened) | recorded);
            if (lost > layout.m()) {
                throw new DriveFormatException(lost + " of the node's drives are missing, refused or recorded as failed,"
                        + " more than the " + layout.m() + " erasure code " + layout + " survives: "
                        + String.join("; ", Arrays.stream(reasons).filter(Objects::nonNull).toList()));
            }
            LOG.info("drives erasure-coded {}: {} drives, {} failed, replaced: {}", layout, paths.size(), lost,
                    table.replaced());
            return new DriveSet(Arrays.asList(opened), segmentSize,
                    new StripedSegments(opened, reasons, recorded, table, layout, segmentSize), media, nodeId, paths);
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

    /**
     * Creates the erasure-coded drives missing at start if no drive there has a reservation slot written:
     * a new node's drives get one ({@link #markFormatted}) once all of them exist, so this is a new node
     * whose formatting a power cut interrupted after its first drives were created, which would otherwise
     * never start (more drives missing than the code survives). Nothing was logged on it, and no failure
     * recorded. (A node formatted before drives were marked so, that never logged a batch, is taken for
     * one too: nothing on its missing drives can be lost either.) Drives refused at start (blank, another
     * node's) stay refused. Returns whether it created any.
     */
    private static boolean createUnlogged(NodeMedia media, List<Path> paths, Drive[] opened, String[] reasons,
                                          UUID nodeId, int segmentSize, long createBytes, ErasureCode layout)
            throws IOException {
        boolean anyMissing = false;
        for (int i = 0; i < paths.size(); i++) {
            if (opened[i] != null && opened[i].everReserved()) {
                return false;
            }
            anyMissing |= MISSING.equals(reasons[i]);
        }
        if (!anyMissing) {
            return false;
        }
        for (int i = 0; i < paths.size(); i++) {
            if (MISSING.equals(reasons[i])) {
                opened[i] = Drive.open(media, paths.get(i), nodeId, i, segmentSize, createBytes, false, layout, true);
                reasons[i] = null;
            }
        }
        markFormatted(opened);
        return true;
    }

    /**
     * Marks a new node's drives formatted once every one of them exists: a reservation slot of sequence 0
     * (reserving nothing), synced, on each. From then on a drive missing at start is a lost drive.
     */
    private static void markFormatted(Drive[] drives) throws IOException {
        for (Drive drive : drives) {
            if (drive != null) {
                drive.reserveSequences(0);
            }
        }
    }

    /** Reads a drive's reservation slots at start; false (with the reason) if it cannot be read. */
    private static boolean readReservations(Drive drive, int index, String[] reasons) {
        try {
            drive.reservedSequence();
            return true;
        } catch (IOException e) {
            reasons[index] = "read error at start: " + e.getMessage();
            return false;
        }
    }

    /**
     * Puts the drive that replaced drive {@code replacement.index()} in its place at start: the drive
     * found at the configured path if it is that one (same drive ID), else the one at the path recorded
     * when it was replaced. Any other drive there (the failed one it replaced) is closed and never used.
     */
    private static void openReplacement(NodeMedia media, DriveTable.Replacement replacement, Path configured,
                                       Drive[] opened, String[] reasons, UUID nodeId, int segmentSize,
                                       ErasureCode layout) throws IOException {
        int index = replacement.index();
        if (index >= opened.length) {
            throw new DriveFormatException("the node's drives record a replacement of drive " + index + " but only "
                    + opened.length + " drives are configured");
        }
        if (opened[index] != null && opened[index].superblock().driveId().equals(replacement.driveId())) {
            return;
        }
        if (opened[index] != null) {
            LOG.warn("drive {} at {} was replaced by {} and is not used (update engine.drives to name {})",
                    index, configured, replacement.path(), replacement.path());
            opened[index].close();
            opened[index] = null;
        }
        reasons[index] = "its replacement " + replacement.path() + " (drive ID " + replacement.driveId()
                + ") is missing or refused";
        if (replacement.path().equals(configured)) {
            return;
        }
        Drive drive;
        try {
            drive = Drive.open(media, replacement.path(), nodeId, index, segmentSize, 0, false, layout, false);
        } catch (IOException e) {
            reasons[index] += ": " + e.getMessage();
            return;
        }
        if (drive == null) {
            return;
        }
        if (!drive.superblock().driveId().equals(replacement.driveId()) || !readReservations(drive, index, reasons)) {
            drive.close();
            return;
        }
        LOG.info("drive {} is its replacement {} (engine.drives still names {})", index, replacement.path(), configured);
        reasons[index] = null;
        opened[index] = drive;
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

    /** The drives by index as they are now (a replaced one's replacement), null for one missing at start. */
    public List<Drive> drives() {
        if (stripes == null) {
            return drives;
        }
        List<Drive> now = new ArrayList<>(drives.size());
        for (int d = 0; d < drives.size(); d++) {
            now.add(stripes.drive(d));
        }
        return Collections.unmodifiableList(now);
    }

    /** A drive's state: ok, failed (with why) or being rebuilt. */
    public enum DriveCondition {
        OK, FAILED, REBUILDING;

        /** As the API and the log say it. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One drive of the node.
     *
     * @param bytes  bytes of its segment area (0 if it was missing at start)
     * @param reason why it failed, null unless failed
     */
    public record DriveState(int index, Path path, long bytes, DriveCondition condition, String reason) {
    }

    /** Every drive by index: where it is, how large, and whether it is ok, failed or being rebuilt. */
    public List<DriveState> driveStates() {
        List<DriveState> states = new ArrayList<>(drives.size());
        Map<Integer, String> failures = new HashMap<>();
        for (FailedDrive failed : failedDrives()) {
            failures.put(failed.index(), failed.reason());
        }
        for (int d = 0; d < drives.size(); d++) {
            Drive drive = stripes == null ? drives.get(d) : stripes.drive(d);
            DriveCondition condition = stripes == null ? DriveCondition.OK : switch (stripes.state(d)) {
                case StripedSegments.FAILED -> DriveCondition.FAILED;
                case StripedSegments.REBUILDING -> DriveCondition.REBUILDING;
                default -> DriveCondition.OK;
            };
            states.add(new DriveState(d, drive == null ? paths.get(d) : drive.path(),
                    drive == null ? 0 : (long) drive.superblock().segmentCount() * segmentSize, condition,
                    failures.get(d)));
        }
        return states;
    }

    /**
     * Bytes of the drives the node's segments occupy, parity included: usable capacity (segments × segment
     * size) times (k+m)/k with erasure coding.
     */
    public long rawBytes() {
        long usable = (long) segmentCount * segmentSize;
        return stripes == null ? usable : usable / stripes.code().k() * stripes.code().width();
    }

    /**
     * Replaces failed drive {@code index} of an erasure-coded node by the drive at {@code path} (a file
     * created there if nothing is, or a blank drive, formatted for that position) and starts rebuilding
     * its chunks in the background; see {@link StripedSegments#replace}. Not on an event loop: it formats
     * and syncs drives.
     *
     * @throws IllegalStateException    if the node is not erasure-coded, the drive has not failed, or a
     *                                  rebuild is running
     * @throws IllegalArgumentException if the index or path is not acceptable
     * @throws DriveFormatException     if the drive at {@code path} is not blank, or is too small
     */
    public synchronized void replace(int index, Path path) throws IOException {
        if (stripes == null) {
            throw new IllegalStateException("the node is not erasure-coded: a failed drive cannot be rebuilt");
        }
        if (closed) {
            throw new IllegalStateException("the node's drives are closed");
        }
        if (index < 0 || index >= drives.size()) {
            throw new IllegalArgumentException("the node has drives 0 to " + (drives.size() - 1) + ", not " + index);
        }
        DriveTable.encodePath(path);
        for (int d = 0; d < drives.size(); d++) {
            Drive drive = stripes.drive(d);
            if (d != index && drive != null && drive.path().equals(path)) {
                throw new IllegalArgumentException(path + " is drive " + d + " of this node");
            }
        }
        if (stripes.state(index) != StripedSegments.FAILED) {
            throw new IllegalStateException("drive " + index + " is " + driveStates().get(index).condition().label()
                    + "; only a failed drive is replaced");
        }
        long bytes = 0;
        for (int d = 0; d < drives.size(); d++) {
            Drive drive = stripes.drive(d);
            if (drive != null && stripes.state(d) == StripedSegments.OK) {
                bytes = drive.superblock().firstSegmentOffset() + (long) drive.superblock().segmentCount() * segmentSize;
            }
        }
        Drive replacement = Drive.formatReplacement(media, path, nodeId, index, segmentSize, bytes, stripes.code());
        Drive replaced;
        try {
            replacement.reservedSequence();
            replaced = stripes.replace(index, replacement);
        } catch (IOException | RuntimeException e) {
            replacement.close();
            throw e;
        }
        if (replaced != null) {
            retired.add(replaced);
        }
        startRebuild(index);
    }

    /** Resumes, after a start, the rebuild a restart interrupted (recorded on the drives); none if none was. */
    public synchronized void resumeRebuild() {
        if (stripes != null && stripes.rebuilding() >= 0 && rebuild == null && !closed) {
            startRebuild(stripes.rebuilding());
        }
    }

    private void startRebuild(int index) {
        rebuild = new DriveRebuild(stripes, index, () -> rebuildBytesPerSecond);
        rebuild.start();
    }

    /** Rebuild rate limit in bytes per second (0: none); applies to a running rebuild from its next piece. */
    public void rebuildBytesPerSecond(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("a rebuild rate is not negative: " + bytesPerSecond);
        }
        rebuildBytesPerSecond = bytesPerSecond;
    }

    /** The running or last rebuild since the start, if any. */
    public Optional<DriveRebuild.Progress> rebuildProgress() {
        DriveRebuild last = rebuild;
        return last == null ? Optional.empty() : Optional.of(last.progress());
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

    /**
     * Syncs a drive and checks that it is still intact ({@link Drive#checkIntact}); on an erasure-coded node
     * a failed drive is skipped, one that fails the sync or the check marked failed.
     */
    public void sync(int drive) throws IOException {
        if (stripes != null) {
            stripes.sync(drive);
            return;
        }
        drives.get(drive).sync();
        // Without redundancy a drive file truncated or removed under the node is the same as an I/O error.
        drives.get(drive).checkIntact();
    }

    public void syncAll() throws IOException {
        for (int d = 0; d < drives.size(); d++) {
            sync(d);
        }
    }

    @Override
    public void close() throws IOException {
        DriveRebuild running;
        synchronized (this) {
            closed = true;
            running = rebuild;
        }
        if (running != null) {
            try {
                running.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while stopping the rebuild", e);
            }
        }
        IOException failure = null;
        List<Drive> all = new ArrayList<>(drives());
        all.addAll(retired);
        for (Drive drive : all) {
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
