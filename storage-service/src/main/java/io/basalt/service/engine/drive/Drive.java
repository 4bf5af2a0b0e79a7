package io.basalt.service.engine.drive;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.UUID;

/**
 * One drive of the node: a block device or a large file, cut into equal segments after its
 * superblock. Positional reads may come from any thread; only the log writer writes.
 */
public final class Drive implements Closeable {
    /** Segments start 1 MiB in, which keeps them aligned for any device. */
    static final long FIRST_SEGMENT_OFFSET = 1 << 20;
    private static final Logger LOG = LoggerFactory.getLogger(Drive.class);

    private final Path path;
    private final DriveIo io;
    private final Superblock superblock;

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
        DriveIo io = media.open(path);
        if (io == null) {
            Superblock superblock = newSuperblock(path, createBytes, nodeId, driveIndex, segmentSize);
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
                superblock = newSuperblock(path, io.size(), nodeId, driveIndex, segmentSize);
                io.write(new ByteBuffer[] {superblock.encode()}, 0);
                io.sync();
                LOG.info("formatted drive {}: {} segments of {} MiB", path, superblock.segmentCount(),
                        segmentSize >> 20);
            } else {
                superblock = Superblock.decode(head, "drive " + path);
                check(superblock, path, nodeId, driveIndex, segmentSize);
            }
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

    private static Superblock newSuperblock(Path path, long size, UUID nodeId, int driveIndex, int segmentSize)
            throws DriveFormatException {
        long segments = (size - FIRST_SEGMENT_OFFSET) / segmentSize;
        if (segments < 4) {
            throw new DriveFormatException("drive " + path + " (" + size + " bytes) is too small for 4 segments of "
                    + segmentSize + " bytes");
        }
        return new Superblock(Superblock.CURRENT_FORMAT, segmentSize, nodeId, UUID.randomUUID(),
                FIRST_SEGMENT_OFFSET, (int) Math.min(segments, Integer.MAX_VALUE), driveIndex,
                System.currentTimeMillis());
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

    /** Gathering write at {@code position}; the log writer's thread only. */
    public void write(ByteBuffer[] parts, long position) throws IOException {
        io.write(parts, position);
    }

    public void read(ByteBuffer destination, long position) throws IOException {
        io.read(destination, position);
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
