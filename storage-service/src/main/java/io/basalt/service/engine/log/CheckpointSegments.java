package io.basalt.service.engine.log;

import io.basalt.service.engine.drive.DriveSet;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Checkpoints on the node's drives: segments taken from the free list that hold checkpoint records
 * instead of log batches, so that a node is recoverable from its drives alone. Little-endian.
 *
 * <pre>
 * checkpoint segment header (offset 0, {@value #SEGMENT_HEADER} bytes; records start at {@value #ALIGN})
 *   u32 magic "BCKS"  u32 format  u32 segment  u32 reserved  u64 number of its first record  u32 CRC32C(0..23)
 * record (4 KiB aligned, one after another; one part of one checkpoint, {@value #RECORD_HEADER}-byte header)
 *   u32 magic "BCKR"  u8 kind (0 base, 1 delta)  u8 last part  u16 reserved  u64 number  u64 previous
 *   u64 base  u64 log sequence  u32 part  u32 data bytes  u32 CRC32C(data)  u32 reserved  u32 reserved
 *   u32 CRC32C(header bytes 0..59)
 *   data: the next bytes of the {@link Checkpoint} image
 * </pre>
 *
 * A checkpoint is one or more records, parts 0..n in order (a part ends where its segment does), the
 * last flagged. Numbers grow by one per checkpoint and are never reused: recovery continues above every
 * number it saw in an intact record header, complete or not. Recovery picks the newest checkpoint whose
 * records are all present and intact and whose chain (previous, back to its base) is too; a torn one
 * is ignored and the one before it used, which is why a chain's segments are kept until a newer base
 * is durable. A record is left from an earlier use of the segment, and ends the segment's scan, when
 * it is the segment's first and does not carry the number in the segment's header, or when its number
 * or its log sequence is below the record's before it. Numbers alone cannot tell: after every
 * checkpoint was lost (a full scan found none), numbering starts again at 1, below the numbers of old
 * records still in the bodies of segments whose headers were lost; log sequences never go back, so a
 * record from before the loss always has a lower one than any written after it
 * ({@code StaleCheckpointRecordTest}).
 */
public final class CheckpointSegments {
    public static final int ALIGN = 4096;
    static final int SEGMENT_HEADER = 32;
    static final int RECORD_HEADER = 64;
    private static final int SEGMENT_MAGIC = 0x534b4342; // "BCKS"
    private static final int RECORD_MAGIC = 0x524b4342; // "BCKR"
    private static final int FORMAT = 1;

    private CheckpointSegments() {
    }

    /** A record found on the drives: part {@code part} of checkpoint {@code link.number()}. */
    record Part(int segment, int offset, Checkpoint.Link link, long sequence, int part, boolean last, int dataBytes,
                boolean intact) {
    }

    /** Whether a record can still start at {@code offset}: each takes at least {@value #ALIGN} bytes. */
    private static boolean roomAt(int offset, int segmentSize) {
        return offset >= ALIGN && offset + ALIGN <= segmentSize;
    }

    /** Where the record after {@code part} starts. */
    static int endOf(Part part) {
        return part.offset() + aligned(RECORD_HEADER + part.dataBytes());
    }

    private static int aligned(long length) {
        return (int) ((length + ALIGN - 1) & -ALIGN);
    }

    /**
     * Fresh segments a checkpoint of {@code bytes} needs when its first record goes to {@code openOffset}
     * of the open checkpoint segment ({@code -1}: none is open). {@link Writer} lays records out the same way.
     */
    public static int segmentsNeeded(long bytes, int openOffset, int segmentSize) {
        int offset = roomAt(openOffset, segmentSize) ? openOffset : -1;
        int taken = 0;
        long left = bytes;
        do {
            if (offset < 0) {
                taken++;
                offset = ALIGN;
            }
            long part = Math.min(left, segmentSize - offset - RECORD_HEADER);
            left -= part;
            offset += aligned(RECORD_HEADER + part);
            if (!roomAt(offset, segmentSize)) {
                offset = -1;
            }
        } while (left > 0);
        return taken;
    }

    /**
     * Streams one checkpoint into records: from {@code openOffset} of {@code openSegment} if a record still
     * fits there, then into {@code fresh} segments, one after another. One segment-sized buffer.
     */
    public static final class Writer extends OutputStream {
        private final DriveSet drives;
        private final Checkpoint.Link link;
        private final long sequence;
        private final ByteBuffer buffer;
        private final List<Integer> fresh;
        private final Set<Integer> used = new LinkedHashSet<>();
        private final int segmentSize;
        private int nextFresh;
        private int segment;
        private int offset;
        private boolean newSegment;
        private int part;
        private long written;

        /** @param buffer a direct buffer of the segment size, used for nothing else meanwhile */
        public Writer(DriveSet drives, Checkpoint.Link link, long sequence, int openSegment, int openOffset,
                      List<Integer> fresh, ByteBuffer buffer) throws IOException {
            this.drives = drives;
            this.link = link;
            this.sequence = sequence;
            this.fresh = fresh;
            this.segmentSize = drives.segmentSize();
            this.buffer = buffer.clear().order(ByteOrder.LITTLE_ENDIAN);
            if (openSegment >= 0 && roomAt(openOffset, segmentSize)) {
                segment = openSegment;
                offset = openOffset;
            } else {
                nextSegment();
            }
            buffer.position(RECORD_HEADER).limit(segmentSize - offset);
        }

        @Override
        public void write(int b) throws IOException {
            if (!buffer.hasRemaining()) {
                emit(false);
            }
            buffer.put((byte) b);
            written++;
        }

        @Override
        public void write(byte[] bytes, int from, int length) throws IOException {
            int at = from;
            int end = from + length;
            while (at < end) {
                if (!buffer.hasRemaining()) {
                    emit(false);
                }
                int n = Math.min(end - at, buffer.remaining());
                buffer.put(bytes, at, n);
                at += n;
                written += n;
            }
        }

        /** Writes the last part; returns the bytes written. Then {@link #segments} and {@link #end} tell where. */
        public long finish() throws IOException {
            emit(true);
            if (nextFresh != fresh.size()) {
                throw new IllegalStateException("checkpoint " + link.number() + " used " + nextFresh + " of the "
                        + fresh.size() + " segments taken for it");
            }
            return written;
        }

        /** Every segment the checkpoint's records are in. */
        public Set<Integer> segments() {
            return used;
        }

        /** The segment the next checkpoint may append to, or -1. */
        public int endSegment() {
            return roomAt(offset, segmentSize) ? segment : -1;
        }

        public int endOffset() {
            return offset;
        }

        private void nextSegment() throws IOException {
            if (nextFresh == fresh.size()) {
                throw new IllegalStateException("checkpoint " + link.number()
                        + " needs more segments than were taken for it");
            }
            segment = fresh.get(nextFresh++);
            offset = ALIGN;
            newSegment = true;
        }

        private void emit(boolean last) throws IOException {
            int dataBytes = buffer.position() - RECORD_HEADER;
            int length = aligned(RECORD_HEADER + dataBytes);
            CRC32C crc = new CRC32C();
            crc.update(buffer.duplicate().position(RECORD_HEADER).limit(RECORD_HEADER + dataBytes));
            buffer.limit(length);
            while (buffer.hasRemaining()) {
                buffer.put((byte) 0);
            }
            buffer.putInt(0, RECORD_MAGIC).put(4, (byte) (link.isBase() ? 0 : 1)).put(5, (byte) (last ? 1 : 0))
                    .putShort(6, (short) 0).putLong(8, link.number()).putLong(16, link.previous())
                    .putLong(24, link.base()).putLong(32, sequence).putInt(40, part).putInt(44, dataBytes)
                    .putInt(48, (int) crc.getValue()).putInt(52, 0).putInt(56, 0);
            buffer.putInt(60, crc(buffer, 0, 60));
            buffer.flip();
            if (newSegment) {
                ByteBuffer head = ByteBuffer.allocate(ALIGN).order(ByteOrder.LITTLE_ENDIAN);
                head.putInt(SEGMENT_MAGIC).putInt(FORMAT).putInt(segment).putInt(0).putLong(link.number());
                head.putInt(24, crc(head, 0, 24));
                drives.write(segment, 0, new ByteBuffer[] {head.clear(), buffer});
                newSegment = false;
            } else {
                drives.write(segment, offset, new ByteBuffer[] {buffer});
            }
            used.add(segment);
            part++;
            offset += length;
            if (!last && !roomAt(offset, segmentSize)) {
                nextSegment();
            }
            buffer.clear().position(RECORD_HEADER).limit(segmentSize - offset);
        }
    }

    /**
     * Every checkpoint record on the drives: the header of each segment, and every record of each
     * checkpoint segment (read whole into {@code buffer}, one segment at a time, its records' data
     * checked against their CRCs).
     */
    static List<Part> scan(DriveSet drives, int segmentCount, ByteBuffer buffer) throws IOException {
        List<Part> found = new ArrayList<>();
        int segmentSize = drives.segmentSize();
        ByteBuffer header = ByteBuffer.allocate(SEGMENT_HEADER).order(ByteOrder.LITTLE_ENDIAN);
        for (int s = 0; s < segmentCount; s++) {
            drives.read(s, 0, header.clear());
            header.flip();
            if (header.getInt(0) != SEGMENT_MAGIC || header.getInt(8) != s || header.getInt(24) != crc(header, 0, 24)) {
                continue;
            }
            long first = header.getLong(16);
            long previous = first;
            long previousSequence = 0;
            ByteBuffer bytes = buffer.clear().order(ByteOrder.LITTLE_ENDIAN);
            drives.read(s, 0, bytes);
            bytes.flip();
            for (int offset = ALIGN; roomAt(offset, segmentSize); ) {
                Part part = parse(bytes, s, offset, segmentSize);
                if (part == null || (offset == ALIGN ? part.link().number() != first : part.link().number() < previous)
                        || part.sequence() < previousSequence) {
                    break;
                }
                found.add(part);
                previous = part.link().number();
                previousSequence = part.sequence();
                offset += aligned(RECORD_HEADER + part.dataBytes());
            }
        }
        return found;
    }

    private static Part parse(ByteBuffer bytes, int segment, int offset, int segmentSize) {
        if (bytes.getInt(offset) != RECORD_MAGIC || bytes.getInt(offset + 60) != crc(bytes, offset, offset + 60)) {
            return null;
        }
        int dataBytes = bytes.getInt(offset + 44);
        if (dataBytes < 0 || dataBytes > segmentSize - offset - RECORD_HEADER) {
            return null;
        }
        int data = offset + RECORD_HEADER;
        boolean intact = crc(bytes, data, data + dataBytes) == bytes.getInt(offset + 48);
        boolean base = bytes.get(offset + 4) == 0;
        long number = bytes.getLong(offset + 8);
        long previous = bytes.getLong(offset + 16);
        if (number <= 0 || base != (previous == 0) || (!base && previous >= number)) {
            return null;
        }
        return new Part(segment, offset, new Checkpoint.Link(number, previous, bytes.getLong(offset + 24)),
                bytes.getLong(offset + 32), bytes.getInt(offset + 40), bytes.get(offset + 5) == 1, dataBytes, intact);
    }

    /**
     * The chain the next checkpoint continues: what recovery found, then kept by the checkpointer as it
     * writes. Empty (no checkpoint on the drives) until the first one.
     *
     * @param next          the number the next checkpoint gets: above every number seen on the drives
     * @param last          the newest checkpoint of the chain; 0 if there is none
     * @param base          the chain's base
     * @param segments      every segment holding a record of the chain: kept until a newer base is durable
     * @param baseBytes     the base's image bytes
     * @param deltaBytes    the deltas' image bytes since the base
     * @param deltas        how many deltas follow the base
     * @param appendSegment where the next record may go, in a segment of the chain; -1: a fresh segment
     */
    public record Chain(long next, long last, long base, Set<Integer> segments, long baseBytes, long deltaBytes,
                        int deltas, int appendSegment, int appendOffset) {
        public Chain {
            segments = Set.copyOf(segments);
        }

        static Chain none(long highestSeen) {
            return new Chain(highestSeen + 1, 0, 0, Set.of(), 0, 0, 0, -1, 0);
        }

        public boolean isEmpty() {
            return last == 0;
        }
    }

    /** One checkpoint of a chain: its link and its records in part order. */
    record Found(Checkpoint.Link link, long sequence, List<Part> parts) {
        long bytes() {
            long sum = 0;
            for (Part part : parts) {
                sum += part.dataBytes();
            }
            return sum;
        }
    }

    /**
     * The chain to recover from: the newest checkpoint that is complete and whose chain is, base first;
     * empty if there is none. {@code highest} gets the highest checkpoint number seen.
     */
    static List<Found> select(List<Part> parts, long[] highest) {
        Map<Long, List<Part>> byNumber = new HashMap<>();
        for (Part part : parts) {
            byNumber.computeIfAbsent(part.link().number(), n -> new ArrayList<>()).add(part);
            highest[0] = Math.max(highest[0], part.link().number());
        }
        List<Long> numbers = new ArrayList<>(byNumber.keySet());
        numbers.sort(Comparator.reverseOrder());
        for (long newest : numbers) {
            List<Found> chain = new ArrayList<>();
            long number = newest;
            while (true) {
                Found found = complete(byNumber.get(number));
                if (found == null || (!chain.isEmpty() && found.link().base() != chain.getFirst().link().base())) {
                    chain = null;
                    break;
                }
                chain.addFirst(found);
                if (found.link().isBase()) {
                    break;
                }
                number = found.link().previous();
            }
            if (chain != null) {
                return chain;
            }
        }
        return List.of();
    }

    /** The checkpoint if its parts are 0..n, each once, all intact, agreeing, only the last flagged so. */
    private static Found complete(List<Part> parts) {
        if (parts == null) {
            return null;
        }
        List<Part> sorted = new ArrayList<>(parts);
        sorted.sort(Comparator.comparingInt(Part::part));
        Part first = sorted.getFirst();
        for (int i = 0; i < sorted.size(); i++) {
            Part part = sorted.get(i);
            if (part.part() != i || !part.intact() || !part.link().equals(first.link())
                    || part.sequence() != first.sequence() || part.last() != (i == sorted.size() - 1)) {
                return null;
            }
        }
        if (first.link().isBase() && first.link().base() != first.link().number()) {
            return null;
        }
        return new Found(first.link(), first.sequence(), sorted);
    }

    /** The image bytes of a checkpoint, read part by part into {@code buffer}, each checked again. */
    static InputStream open(DriveSet drives, Found checkpoint, ByteBuffer buffer) {
        return new InputStream() {
            private int next;
            private ByteBuffer data = ByteBuffer.allocate(0);

            @Override
            public int read() throws IOException {
                return fill() ? data.get() & 0xFF : -1;
            }

            @Override
            public int read(byte[] bytes, int from, int length) throws IOException {
                if (length == 0) {
                    return 0;
                }
                if (!fill()) {
                    return -1;
                }
                int n = Math.min(length, data.remaining());
                data.get(bytes, from, n);
                return n;
            }

            private boolean fill() throws IOException {
                while (!data.hasRemaining()) {
                    if (next == checkpoint.parts().size()) {
                        return false;
                    }
                    Part part = checkpoint.parts().get(next++);
                    ByteBuffer target = buffer.clear().limit(part.dataBytes());
                    drives.read(part.segment(), part.offset() + RECORD_HEADER, target);
                    target.flip();
                    CRC32C crc = new CRC32C();
                    crc.update(target.duplicate());
                    ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER).order(ByteOrder.LITTLE_ENDIAN);
                    drives.read(part.segment(), part.offset(), header);
                    if ((int) crc.getValue() != header.getInt(48)) {
                        throw new IOException("checkpoint " + checkpoint.link().number() + " part " + part.part()
                                + " changed on the drive while it was read");
                    }
                    data = target;
                }
                return true;
            }
        };
    }

    private static int crc(ByteBuffer buffer, int from, int to) {
        CRC32C crc = new CRC32C();
        crc.update(buffer.duplicate().position(from).limit(to));
        return (int) crc.getValue();
    }
}
