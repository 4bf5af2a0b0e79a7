package io.basalt.service.engine.drive;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * One drive of the node: a block device or a large file, cut into equal segments after its
 * superblock. Positional reads and writes may come from any thread.
 */
public final class Drive implements Closeable {
    /** Segments start 1 MiB in, which keeps them aligned for any device. */
    static final long FIRST_SEGMENT_OFFSET = 1 << 20;
    private static final Logger LOG = LoggerFactory.getLogger(Drive.class);

    private final Path path;
    private final FileChannel channel;
    private final Superblock superblock;

    private Drive(Path path, FileChannel channel, Superblock superblock) {
        this.path = path;
        this.channel = channel;
        this.superblock = superblock;
    }

    /**
     * Opens a drive of this node, formatting it first if it is blank (all zeros where the superblock
     * goes) or, for a file, if it does not exist yet ({@code createBytes} then gives its size).
     *
     * @throws DriveFormatException if it belongs to another node, has a newer format, another segment
     *                              size, or holds something that is not a Basalt drive
     */
    public static Drive open(Path path, UUID nodeId, int driveIndex, int segmentSize, long createBytes)
            throws IOException {
        boolean created = false;
        if (!Files.exists(path)) {
            Files.createDirectories(path.toAbsolutePath().getParent());
            try (FileChannel file = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                file.write(ByteBuffer.allocate(1), createBytes - 1);
            }
            created = true;
        }
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            ByteBuffer head = ByteBuffer.allocate(Superblock.SIZE);
            readFully(channel, head, 0);
            head.flip();
            Superblock superblock;
            if (!Superblock.hasMagic(head) && isZero(head)) {
                superblock = format(path, channel, nodeId, driveIndex, segmentSize);
                LOG.info("{} drive {}: {} segments of {} MiB", created ? "created" : "formatted", path,
                        superblock.segmentCount(), segmentSize >> 20);
            } else {
                superblock = Superblock.decode(head, "drive " + path);
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
            return new Drive(path, channel, superblock);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static Superblock format(Path path, FileChannel channel, UUID nodeId, int driveIndex, int segmentSize)
            throws IOException {
        long size = channel.size();
        long segments = (size - FIRST_SEGMENT_OFFSET) / segmentSize;
        if (segments < 4) {
            throw new DriveFormatException("drive " + path + " (" + size + " bytes) is too small for 4 segments of "
                    + segmentSize + " bytes");
        }
        Superblock superblock = new Superblock(Superblock.CURRENT_FORMAT, segmentSize, nodeId, UUID.randomUUID(),
                FIRST_SEGMENT_OFFSET, (int) Math.min(segments, Integer.MAX_VALUE), driveIndex,
                System.currentTimeMillis());
        ByteBuffer bytes = superblock.encode();
        while (bytes.hasRemaining()) {
            channel.write(bytes, bytes.position());
        }
        channel.force(true);
        return superblock;
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

    public void write(ByteBuffer source, long position) throws IOException {
        long at = position;
        while (source.hasRemaining()) {
            at += channel.write(source, at);
        }
    }

    /**
     * Gathering write at {@code position}. Only the engine's writer thread writes, so moving the
     * channel's position here cannot race with another write; positional reads ignore it.
     */
    public synchronized void write(ByteBuffer[] parts, long position) throws IOException {
        long total = 0;
        for (ByteBuffer part : parts) {
            total += part.remaining();
        }
        channel.position(position);
        long done = 0;
        while (done < total) {
            done += channel.write(parts);
        }
    }

    public void read(ByteBuffer destination, long position) throws IOException {
        readFully(channel, destination, position);
    }

    /** Makes every completed write durable (fdatasync). */
    public void sync() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private static void readFully(FileChannel channel, ByteBuffer destination, long position) throws IOException {
        long at = position;
        while (destination.hasRemaining()) {
            int n = channel.read(destination, at);
            if (n < 0) {
                throw new EOFException("read past the end of a drive at " + at);
            }
            at += n;
        }
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
