package io.basalt.service.engine;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Test access to the checkpoint records on a drive, read and damaged the way an operator's tool or a
 * failing drive would, with the engine stopped (layout: {@code CheckpointSegments}).
 */
final class OnDriveCheckpoints {
    private static final long FIRST_SEGMENT = 1 << 20;
    private static final int ALIGN = 4096;
    private static final int RECORD_HEADER = 64;
    private static final int SEGMENT_MAGIC = 0x534b4342; // "BCKS"
    private static final int RECORD_MAGIC = 0x524b4342; // "BCKR"

    private OnDriveCheckpoints() {
    }

    /** A drive's bytes, changed offline. */
    interface Bytes {
        long size() throws IOException;

        void read(long position, byte[] into) throws IOException;

        void write(long position, byte[] bytes) throws IOException;
    }

    /** One record: where its header is, its checkpoint's number, part, and data bytes. */
    record Record(long position, long number, int part, int dataBytes, boolean base) {
    }

    static Bytes file(Path path) {
        return new Bytes() {
            @Override
            public long size() throws IOException {
                try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "r")) {
                    return file.length();
                }
            }

            @Override
            public void read(long position, byte[] into) throws IOException {
                try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "r")) {
                    file.seek(position);
                    file.readFully(into);
                }
            }

            @Override
            public void write(long position, byte[] bytes) throws IOException {
                try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
                    file.seek(position);
                    file.write(bytes);
                }
            }
        };
    }

    /** Every record with a valid magic, in checkpoint segments, in the order they are on the drive. */
    static List<Record> records(Bytes drive, int segmentSize) throws IOException {
        List<Record> found = new ArrayList<>();
        byte[] header = new byte[RECORD_HEADER];
        for (long segment = FIRST_SEGMENT; segment + segmentSize <= drive.size(); segment += segmentSize) {
            drive.read(segment, header);
            if (le(header).getInt(0) != SEGMENT_MAGIC) {
                continue;
            }
            for (long offset = ALIGN; offset + ALIGN <= segmentSize; ) {
                drive.read(segment + offset, header);
                ByteBuffer record = le(header);
                if (record.getInt(0) != RECORD_MAGIC) {
                    break;
                }
                int dataBytes = record.getInt(44);
                found.add(new Record(segment + offset, record.getLong(8), record.getInt(40), dataBytes,
                        record.get(4) == 0));
                offset += (RECORD_HEADER + dataBytes + ALIGN - 1) & -ALIGN;
            }
        }
        return found;
    }

    /** Zeroes the header of every checkpoint segment: the drive then holds no checkpoint at all. */
    static int eraseAll(Bytes drive, int segmentSize) throws IOException {
        int erased = 0;
        byte[] header = new byte[32];
        for (long segment = FIRST_SEGMENT; segment + segmentSize <= drive.size(); segment += segmentSize) {
            drive.read(segment, header);
            if (le(header).getInt(0) == SEGMENT_MAGIC) {
                drive.write(segment, new byte[32]);
                erased++;
            }
        }
        return erased;
    }

    /** Flips a byte in the data of {@code record}: its CRC32C no longer matches, as after a torn write. */
    static void damage(Bytes drive, Record record) throws IOException {
        byte[] one = new byte[1];
        long position = record.position() + RECORD_HEADER + record.dataBytes() / 2;
        drive.read(position, one);
        one[0] ^= 0x40;
        drive.write(position, one);
    }

    private static ByteBuffer le(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
