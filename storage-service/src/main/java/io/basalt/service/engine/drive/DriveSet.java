package io.basalt.service.engine.drive;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The node's drives seen as one row of numbered segments: drive 0's segments first, then drive 1's.
 */
public final class DriveSet implements Closeable {
    private final List<Drive> drives;
    private final int[] firstSegment;
    private final int segmentSize;
    private final int segmentCount;

    private DriveSet(List<Drive> drives, int segmentSize) {
        this.drives = List.copyOf(drives);
        this.segmentSize = segmentSize;
        this.firstSegment = new int[drives.size()];
        int next = 0;
        for (int i = 0; i < drives.size(); i++) {
            firstSegment[i] = next;
            next = Math.addExact(next, drives.get(i).superblock().segmentCount());
        }
        this.segmentCount = next;
    }

    /** Opens the drives in configuration order; see {@link Drive#open} for which are created or formatted. */
    public static DriveSet open(NodeMedia media, List<Path> paths, UUID nodeId, int segmentSize, long createBytes,
                                boolean formatBlank) throws IOException {
        List<Drive> opened = new ArrayList<>();
        try {
            for (int i = 0; i < paths.size(); i++) {
                opened.add(Drive.open(media, paths.get(i), nodeId, i, segmentSize, createBytes, formatBlank));
            }
        } catch (IOException | RuntimeException e) {
            for (Drive drive : opened) {
                try {
                    drive.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        return new DriveSet(opened, segmentSize);
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

    /** The drive holding global segment {@code segment}. */
    public int driveOf(int segment) {
        for (int i = drives.size() - 1; i >= 0; i--) {
            if (segment >= firstSegment[i]) {
                return i;
            }
        }
        throw new IllegalArgumentException("segment " + segment);
    }

    /** Writes the parts one after another from {@code offset}, with one gathering write where possible. */
    public void write(int segment, int offset, ByteBuffer[] parts) throws IOException {
        int drive = driveOf(segment);
        drives.get(drive).write(parts, drives.get(drive).position(segment - firstSegment[drive], offset));
    }

    public void read(int segment, int offset, ByteBuffer destination) throws IOException {
        int drive = driveOf(segment);
        drives.get(drive).read(destination, drives.get(drive).position(segment - firstSegment[drive], offset));
    }

    /** Reads only if no wait for a drive is needed; see {@link DriveIo#readCached}. */
    public boolean readCached(int segment, int offset, ByteBuffer destination) {
        int drive = driveOf(segment);
        return drives.get(drive).readCached(destination, drives.get(drive).position(segment - firstSegment[drive], offset));
    }

    /** The highest sequence number reserved on any drive (0 if none); before the log writer starts. */
    public long reservedSequence() throws IOException {
        long highest = 0;
        for (Drive drive : drives) {
            highest = Math.max(highest, drive.reservedSequence());
        }
        return highest;
    }

    /** Reserves sequence numbers up to {@code sequence} on every drive, durably; the log writer's thread. */
    public void reserveSequences(long sequence) throws IOException {
        for (Drive drive : drives) {
            drive.reserveSequences(sequence);
        }
    }

    public void sync(int drive) throws IOException {
        drives.get(drive).sync();
    }

    public void syncAll() throws IOException {
        for (Drive drive : drives) {
            drive.sync();
        }
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        for (Drive drive : drives) {
            try {
                drive.close();
            } catch (IOException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
