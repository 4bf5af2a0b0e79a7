package io.basalt.service.engine.drive;

import io.basalt.service.engine.ec.ErasureCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * One drive of the node: a block device or a large file, cut into equal segments after its
 * superblock. Positional reads may come from any thread; only the log writer writes.
 */
public final class Drive implements Closeable {
    /** Segments start 1 MiB in, which keeps them aligned for any device. */
    static final long FIRST_SEGMENT_OFFSET = 1 << 20;
    /**
     * Two 4 KiB slots after the superblock, written in turn, each holding the highest log sequence
     * number the writer may use: a torn write of one leaves the other.
     */
    private static final long RESERVATION_SLOTS = Superblock.SIZE;
    private static final int RESERVATION_SIZE = 4096;
    private static final int RESERVATION_MAGIC = 0x51455342; // "BSEQ"
    private static final Logger LOG = LoggerFactory.getLogger(Drive.class);

    private final Path path;
    private final DriveIo io;
    private final Superblock superblock;
    private final ByteBuffer reservation = ByteBuffer.allocateDirect(RESERVATION_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private int nextSlot;
    private int recordedFailures;
    /** Where an erasure-coded node's {@link DriveTable} starts in a reservation slot. */
    private static final int TABLE_OFFSET = 32;
    private DriveTable newestTable;
    /** Whether a reservation slot of this drive was ever written; known after {@link #reservedSequence}. */
    private boolean reserved;
    /** Where {@link #checkIntact} reads the superblock back. */
    private final ByteBuffer superblockReadBack = ByteBuffer.allocate(Superblock.SIZE);

    private Drive(Path path, DriveIo io, Superblock superblock) {
        this.path = path;
        this.io = io;
        this.superblock = superblock;
    }

    /**
     * Opens a drive of this node. A missing file is created ({@code createBytes} long) and formatted.
     * An existing drive must carry this node's superblock, except that one that is blank (zeros where
     * the superblock goes) is formatted when {@code formatBlank} says so: a device handed to the node
     * is only formatted on request, since zeros in its first 4 KiB do not prove that nothing else is
     * on it.
     *
     * @throws DriveFormatException if it belongs to another node, has a newer format, another segment
     *                              size or position, holds something that is not a Basalt drive, or is
     *                              blank and {@code formatBlank} is false
     */
    public static Drive open(NodeMedia media, Path path, UUID nodeId, int driveIndex, int segmentSize,
                             long createBytes, boolean formatBlank) throws IOException {
        return open(media, path, nodeId, driveIndex, segmentSize, createBytes, formatBlank, ErasureCode.NONE, true);
    }

    /**
     * As {@link #open(NodeMedia, Path, UUID, int, int, long, boolean)}, a drive created or formatted
     * getting {@code layout}; a missing drive is created only if {@code create}, else null is returned.
     */
    public static Drive open(NodeMedia media, Path path, UUID nodeId, int driveIndex, int segmentSize,
                             long createBytes, boolean formatBlank, ErasureCode layout, boolean create)
            throws IOException {
        DriveIo io = media.open(path);
        if (io == null) {
            if (!create) {
                return null;
            }
            Superblock superblock = newSuperblock(path, createBytes, nodeId, driveIndex, segmentSize, layout);
            io = media.create(path, createBytes, superblock.encode());
            LOG.info("created drive {}: {} segments of {} MiB", path, superblock.segmentCount(), segmentSize >> 20);
            return new Drive(path, io, superblock);
        }
        try {
            ByteBuffer head = ByteBuffer.allocate(Superblock.SIZE);
            io.read(head, 0);
            head.flip();
            Superblock superblock;
            if (!Superblock.hasMagic(head) && isZero(head)) {
                if (!formatBlank) {
                    throw new DriveFormatException("drive " + path + " is blank but was not formatted by Basalt; "
                            + "format it explicitly (engine.format-drives=true) if its content may be destroyed");
                }
                superblock = newSuperblock(path, io.size(), nodeId, driveIndex, segmentSize, layout);
                io.write(new ByteBuffer[] {superblock.encode()}, 0);
                io.sync();
                LOG.info("formatted drive {}: {} segments of {} MiB", path, superblock.segmentCount(),
                        segmentSize >> 20);
            } else {
                superblock = Superblock.decode(head, "drive " + path);
                check(superblock, path, nodeId, driveIndex, segmentSize);
                if (superblock.formatVersion() < Superblock.formatFor(superblock.erasure())) {
                    // Marks the drive as one older versions must refuse: they would ignore its reservations
                    // (format 2), take its checkpoint segments for free ones and stop at log entries they do
                    // not know (format 3).
                    superblock = superblock.upgraded();
                    io.write(new ByteBuffer[] {superblock.encode()}, 0);
                    io.sync();
                    LOG.info("drive {} upgraded to drive format {}", path, superblock.formatVersion());
                }
            }
            return new Drive(path, io, superblock);
        } catch (IOException | RuntimeException e) {
            io.close();
            throw e;
        }
    }

    /**
     * Formats the drive at {@code path} as the replacement of drive {@code driveIndex} (a new drive ID):
     * a missing file is created ({@code createBytes} long); an existing drive must be blank or this node's
     * drive at that same position (the failed drive put back), since the operator named it for this.
     *
     * @throws DriveFormatException if it holds anything else (another node's drive, this node's drive at
     *                              another position, data that is not a Basalt drive) or is too small
     */
    static Drive formatReplacement(NodeMedia media, Path path, UUID nodeId, int driveIndex, int segmentSize,
                                   long createBytes, ErasureCode layout) throws IOException {
        DriveIo io = media.open(path);
        if (io == null) {
            Superblock superblock = newSuperblock(path, createBytes, nodeId, driveIndex, segmentSize, layout);
            io = media.create(path, createBytes, superblock.encode());
            LOG.info("created replacement drive {} for drive {}: {} segments of {} MiB", path, driveIndex,
                    superblock.segmentCount(), segmentSize >> 20);
            return new Drive(path, io, superblock);
        }
        try {
            if (io.size() < FIRST_SEGMENT_OFFSET) {
                throw new DriveFormatException("drive " + path + " (" + io.size() + " bytes) is too small to be a drive");
            }
            ByteBuffer head = ByteBuffer.allocate(Superblock.SIZE);
            io.read(head, 0);
            head.flip();
            if (Superblock.hasMagic(head) || !isZero(head)) {
                Superblock found = Superblock.decode(head, "drive " + path);
                if (!found.nodeId().equals(nodeId) || found.driveIndex() != driveIndex) {
                    throw new DriveFormatException("drive " + path + " is drive " + found.driveIndex() + " of node "
                            + found.nodeId() + "; only a blank drive, or this node's drive " + driveIndex
                            + " itself, replaces drive " + driveIndex);
                }
            }
            Superblock superblock = newSuperblock(path, io.size(), nodeId, driveIndex, segmentSize, layout);
            io.write(new ByteBuffer[] {superblock.encode()}, 0);
            io.sync();
            LOG.info("formatted replacement drive {} for drive {}: {} segments of {} MiB", path, driveIndex,
                    superblock.segmentCount(), segmentSize >> 20);
            return new Drive(path, io, superblock);
        } catch (IOException | RuntimeException e) {
            io.close();
            throw e;
        }
    }

    private static void check(Superblock superblock, Path path, UUID nodeId, int driveIndex, int segmentSize)
            throws DriveFormatException {
        if (!superblock.nodeId().equals(nodeId)) {
            throw new DriveFormatException("drive " + path + " belongs to node " + superblock.nodeId()
                    + ", not to this node (" + nodeId + "); it is refused so its data is not overwritten");
        }
        if (superblock.segmentSize() != segmentSize) {
            throw new DriveFormatException("drive " + path + " has " + superblock.segmentSize()
                    + "-byte segments but the node is configured for " + segmentSize);
        }
        if (superblock.driveIndex() != driveIndex) {
            throw new DriveFormatException("drive " + path + " is drive " + superblock.driveIndex()
                    + " of this node but is configured as drive " + driveIndex + "; keep the drive order");
        }
    }

    private static Superblock newSuperblock(Path path, long size, UUID nodeId, int driveIndex, int segmentSize,
                                            ErasureCode layout) throws DriveFormatException {
        long segments = (size - FIRST_SEGMENT_OFFSET) / segmentSize;
        if (segments < 4) {
            throw new DriveFormatException("drive " + path + " (" + size + " bytes) is too small for 4 segments of "
                    + segmentSize + " bytes");
        }
        return new Superblock(Superblock.formatFor(layout), segmentSize, nodeId, UUID.randomUUID(),
                FIRST_SEGMENT_OFFSET, (int) Math.min(segments, Integer.MAX_VALUE), driveIndex,
                System.currentTimeMillis(), layout);
    }

    public Superblock superblock() {
        return superblock;
    }

    public Path path() {
        return path;
    }

    /** Drive offset of byte {@code offset} of local segment {@code segment}. */
    public long position(int segment, int offset) {
        return superblock.firstSegmentOffset() + (long) segment * superblock.segmentSize() + offset;
    }

    /**
     * The highest sequence number reserved on this drive (0 if none): no batch anywhere on it has a
     * higher one. Also picks the slot the next reservation overwrites: the older one.
     */
    public long reservedSequence() throws IOException {
        long[] slots = new long[2];
        for (int slot = 0; slot < 2; slot++) {
            io.read(reservation.clear(), RESERVATION_SLOTS + (long) slot * RESERVATION_SIZE);
            boolean valid = isReservation(reservation.flip());
            slots[slot] = valid ? reservation.getLong(8) : 0;
            // A slot written before the first reservation (sequence 0) still records failures and the table.
            if (valid) {
                reserved = true;
                recordedFailures |= reservation.getInt(4);
                DriveTable table = DriveTable.decode(reservation, TABLE_OFFSET);
                if (table != null && (newestTable == null || table.stamp() > newestTable.stamp())) {
                    newestTable = table;
                }
            }
        }
        nextSlot = slots[0] <= slots[1] ? 0 : 1;
        return Math.max(slots[0], slots[1]);
    }

    /**
     * The drives of an erasure-coded node that any of this drive's reservation slots records as failed,
     * one bit per drive index; known after {@link #reservedSequence}.
     */
    public int recordedFailures() {
        return recordedFailures;
    }

    /**
     * Whether this drive's reservation slots were ever written (a sequence reserved before a log batch,
     * or a drive failure or replacement recorded); known after {@link #reservedSequence}. A node whose
     * drives have none has never logged anything.
     */
    boolean everReserved() {
        return reserved;
    }

    /**
     * The newest {@link DriveTable} in this drive's reservation slots, null if none has one (no
     * erasure coding, or written before drive tables existed); known after {@link #reservedSequence}.
     */
    DriveTable newestTable() {
        return newestTable;
    }

    /** Records durably that sequence numbers up to {@code sequence} may be in use. */
    public void reserveSequences(long sequence) throws IOException {
        reserveSequences(sequence, null);
    }

    /**
     * Records durably that sequence numbers up to {@code sequence} may be in use and, on an erasure-coded
     * node, the state of its drives ({@code table}): which failed (a failed drive whose lost writes left
     * stale chunks must not be read again after a restart), which were replaced and how far a rebuild is.
     */
    void reserveSequences(long sequence, DriveTable table) throws IOException {
        reservation.clear();
        reservation.putInt(RESERVATION_MAGIC).putInt(table == null ? 0 : table.failedDrives()).putLong(sequence);
        CRC32C crc = new CRC32C();
        crc.update(reservation.duplicate().flip());
        reservation.putInt((int) crc.getValue());
        while (reservation.hasRemaining()) {
            reservation.put((byte) 0);
        }
        if (table != null) {
            table.encode(reservation.position(TABLE_OFFSET));
            reservation.position(reservation.limit());
        }
        io.write(new ByteBuffer[] {reservation.flip()}, RESERVATION_SLOTS + (long) nextSlot * RESERVATION_SIZE);
        io.sync();
        nextSlot ^= 1;
    }

    /** Whether the slot holds a reservation, not torn: its magic and CRC32C. */
    private static boolean isReservation(ByteBuffer slot) {
        if (slot.getInt(0) != RESERVATION_MAGIC) {
            return false;
        }
        CRC32C crc = new CRC32C();
        crc.update(slot.duplicate().limit(16));
        return (int) crc.getValue() == slot.getInt(16);
    }

    /** Gathering write at {@code position}; the log writer's and the checkpoint thread's. */
    public void write(ByteBuffer[] parts, long position) throws IOException {
        io.write(parts, position);
    }

    public void read(ByteBuffer destination, long position) throws IOException {
        io.read(destination, position);
    }

    /** See {@link DriveIo#readCached}. */
    public boolean readCached(ByteBuffer destination, long position) {
        return io.readCached(destination, position);
    }

    /**
     * Throws if the drive is no longer intact although its I/O calls succeed: its file truncated,
     * removed or replaced ({@link DriveIo#checkPresent}), or its superblock no longer ours (a truncated
     * file reads back zeros there). Its caller fails the drive: whatever it held since may be lost.
     * Reads 4 KiB; not on the event loops.
     */
    public synchronized void checkIntact() throws IOException {
        io.checkPresent();
        io.read(superblockReadBack.clear(), 0);
        superblockReadBack.flip();
        Superblock found;
        try {
            found = Superblock.decode(superblockReadBack, "what it reads back");
        } catch (DriveFormatException e) {
            throw new IOException("drive " + path + " no longer holds its superblock (" + e.getMessage() + ")", e);
        }
        if (!superblock.equals(found)) {
            throw new IOException("drive " + path + " no longer holds its superblock: another one is there");
        }
    }

    /** Makes every completed write durable (fdatasync). */
    public void sync() throws IOException {
        io.sync();
    }

    @Override
    public void close() throws IOException {
        io.close();
    }

    private static boolean isZero(ByteBuffer bytes) {
        for (int i = 0; i < bytes.limit(); i++) {
            if (bytes.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
