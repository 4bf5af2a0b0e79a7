package io.basalt.service.engine.log;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The on-drive layout of segments and batches (little-endian). See docs/storage-engine.md.
 *
 * <pre>
 * segment header (at offset 0 of a segment, {@value #SEGMENT_HEADER} bytes)
 *   u32 magic "BSEG"  u32 format  u32 segment  u32 reserved  u64 open sequence  u32 CRC32C(0..23)
 * batch (8-byte aligned, one after another)
 *   u32 magic "BTCH"  u32 entry bytes  u32 payload bytes  u32 entry count  u64 sequence
 *   u32 CRC32C(header bytes 0..23 + entries)  u32 reserved
 *   entries: u8 type, u8 reserved, u16 length, body
 *   payload: the stored blocks of WRITE and RELOCATE entries, in entry order
 * </pre>
 *
 * Each stored block is also covered by its own CRC32C (seeded with its LBA), kept in its entry and
 * in the map, so a read verifies exactly the bytes it returns.
 */
public final class LogFormat {
    public static final int SEGMENT_HEADER = 32;
    public static final int BATCH_HEADER = 32;
    static final int SEGMENT_MAGIC = 0x47455342; // "BSEG"
    static final int BATCH_MAGIC = 0x48435442; // "BTCH"
    static final int FORMAT = 1;

    private LogFormat() {
    }

    public static ByteBuffer segmentHeader(int segment, long openSequence) {
        ByteBuffer header = ByteBuffer.allocate(SEGMENT_HEADER).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(SEGMENT_MAGIC).putInt(FORMAT).putInt(segment).putInt(0).putLong(openSequence);
        header.putInt(24, crc(header, 0, 24));
        return header.clear();
    }

    /** The open sequence of a segment header, or -1 if the bytes are not a valid header of that segment. */
    public static long openSequence(ByteBuffer raw, int segment) {
        ByteBuffer header = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (header.remaining() < SEGMENT_HEADER || header.getInt(0) != SEGMENT_MAGIC || header.getInt(8) != segment
                || header.getInt(24) != crc(header, 0, 24)) {
            return -1;
        }
        return header.getLong(16);
    }

    /** Rounds a batch length up to the alignment batches start at. */
    public static int align(int length) {
        return (length + 7) & ~7;
    }

    /**
     * The length of a batch of {@code raw} bytes at segment offset {@code offset} whose end is aligned to
     * {@code alignment} (a power of two; 8, or an erasure-coded stripe's row, see
     * {@code DriveSet.writeAlignment}): the batch and its padding.
     */
    public static int batchLength(int offset, int raw, int alignment) {
        return ((offset + raw + alignment - 1) & -alignment) - offset;
    }

    /** Encodes one entry into {@code out}, which must have room. */
    static void encode(LogEntry entry, ByteBuffer out) {
        int start = out.position();
        out.putInt(0);
        switch (entry) {
            case LogEntry.Write w -> {
                out.putInt(w.volume()).putLong(w.lba()).putShort((short) w.blocks());
                for (int i = 0; i < w.blocks(); i++) {
                    out.putShort((short) w.length(i)).putInt(w.crc(i));
                }
            }
            case LogEntry.Unmap u -> out.putInt(u.volume()).putLong(u.lba()).putLong(u.count());
            case LogEntry.Relocate r -> out.putInt(r.lineage()).putLong(r.lba()).putLong(r.from())
                    .putShort((short) r.length()).putInt(r.crc());
            case LogEntry.Create c -> out.putInt(c.volume()).putInt(c.blockSize()).putLong(c.sizeBlocks())
                    .put((byte) (c.compressed() ? 1 : 0));
            case LogEntry.Clone c -> out.putInt(c.volume()).putInt(c.source()).putLong(c.sizeBlocks())
                    .put((byte) (c.compressed() ? 1 : 0)).put((byte) (c.readOnly() ? 1 : 0));
            case LogEntry.Resize r -> out.putInt(r.volume()).putLong(r.sizeBlocks());
            case LogEntry.Delete d -> out.putInt(d.volume());
            case LogEntry.Revert r -> out.putInt(r.volume()).putInt(r.snapshot());
            case LogEntry.Compression c -> out.putInt(c.volume()).put((byte) (c.compressed() ? 1 : 0));
        }
        out.put(start, type(entry)).put(start + 1, (byte) 0).putShort(start + 2, (short) (out.position() - start));
    }

    /** Bytes {@link #encode} writes for the entry. */
    static int encodedLength(LogEntry entry) {
        return 4 + switch (entry) {
            case LogEntry.Write w -> writeEntryLength(w.blocks()) - 4;
            case LogEntry.Unmap u -> 20;
            case LogEntry.Relocate r -> 26;
            case LogEntry.Create c -> 17;
            case LogEntry.Clone c -> 18;
            case LogEntry.Resize r -> 12;
            case LogEntry.Delete d -> 4;
            case LogEntry.Revert r -> 8;
            case LogEntry.Compression c -> 5;
        };
    }

    /** Bytes {@link #encode} writes for a WRITE entry of {@code blocks} blocks, without making the entry. */
    static int writeEntryLength(int blocks) {
        return 4 + 14 + 6 * blocks;
    }

    /** Payload bytes the entry carries. */
    static int payloadLength(LogEntry entry) {
        return switch (entry) {
            case LogEntry.Write w -> {
                int sum = 0;
                for (int i = 0; i < w.blocks(); i++) {
                    sum += w.length(i);
                }
                yield sum;
            }
            case LogEntry.Relocate r -> r.length();
            default -> 0;
        };
    }

    /**
     * Writes the batch header into {@code header} (at 0) for the entries in {@code entries[0, entryBytes)}.
     * The writer keeps header and entries in separate buffers (one gathering write), so the CRC is taken
     * over both rather than over bytes after the header in the same buffer, which would not exist. Once
     * per batch on the writer, so it takes the caller's {@code crc} and makes no views: it leaves
     * {@code header} cleared and {@code entries}' position and limit at {@code entryBytes}.
     */
    static void sealBatch(ByteBuffer header, ByteBuffer entries, int entryBytes, int payloadBytes, int entryCount,
                          long sequence, CRC32C crc) {
        header.putInt(0, BATCH_MAGIC).putInt(4, entryBytes).putInt(8, payloadBytes).putInt(12, entryCount)
                .putLong(16, sequence);
        crc.reset();
        crc.update(header.limit(24).position(0));
        crc.update(entries.limit(entryBytes).position(0));
        header.clear().putInt(24, (int) crc.getValue()).putInt(28, 0);
    }

    /** A batch read back from a segment. */
    public record Batch(long sequence, int offset, int length, int payloadOffset, List<LogEntry> entries) {
    }

    /**
     * Parses the batch at the start of {@code bytes} (positioned at segment offset {@code offset}).
     * Returns null if there is no intact batch header there: the end of the written part of the segment.
     */
    public static Batch parse(ByteBuffer raw, int offset) {
        return parse(raw, offset, 8);
    }

    /** As {@link #parse(ByteBuffer, int)} for batches whose ends are aligned to {@code alignment}. */
    public static Batch parse(ByteBuffer raw, int offset, int alignment) {
        ByteBuffer bytes = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int start = bytes.position();
        if (bytes.remaining() < BATCH_HEADER || bytes.getInt(start) != BATCH_MAGIC) {
            return null;
        }
        int entryBytes = bytes.getInt(start + 4);
        int payloadBytes = bytes.getInt(start + 8);
        int count = bytes.getInt(start + 12);
        if (entryBytes < 0 || payloadBytes < 0 || count < 0
                || (long) BATCH_HEADER + entryBytes + payloadBytes > bytes.remaining()) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate().position(start).limit(start + 24));
        crc.update(bytes.duplicate().position(start + BATCH_HEADER).limit(start + BATCH_HEADER + entryBytes));
        if ((int) crc.getValue() != bytes.getInt(start + 24)) {
            return null;
        }
        List<LogEntry> entries = new ArrayList<>(count);
        ByteBuffer body = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN)
                .position(start + BATCH_HEADER).limit(start + BATCH_HEADER + entryBytes);
        for (int i = 0; i < count; i++) {
            entries.add(decode(body));
        }
        return new Batch(bytes.getLong(start + 16), offset, batchLength(offset, BATCH_HEADER + entryBytes + payloadBytes,
                alignment),
                offset + BATCH_HEADER + entryBytes, entries);
    }

    private static LogEntry decode(ByteBuffer in) {
        int start = in.position();
        byte type = in.get();
        in.get();
        int length = Short.toUnsignedInt(in.getShort());
        LogEntry entry = switch (type) {
            case LogEntry.WRITE -> {
                int volume = in.getInt();
                long lba = in.getLong();
                int count = Short.toUnsignedInt(in.getShort());
                int[] lengths = new int[count];
                int[] crcs = new int[count];
                for (int i = 0; i < count; i++) {
                    lengths[i] = Short.toUnsignedInt(in.getShort());
                    crcs[i] = in.getInt();
                }
                yield new LogEntry.Write(volume, lba, lengths, crcs);
            }
            case LogEntry.UNMAP -> new LogEntry.Unmap(in.getInt(), in.getLong(), in.getLong());
            case LogEntry.RELOCATE -> new LogEntry.Relocate(in.getInt(), in.getLong(), in.getLong(),
                    Short.toUnsignedInt(in.getShort()), in.getInt());
            case LogEntry.CREATE -> new LogEntry.Create(in.getInt(), in.getInt(), in.getLong(), in.get() != 0);
            case LogEntry.CLONE -> new LogEntry.Clone(in.getInt(), in.getInt(), in.getLong(), in.get() != 0,
                    in.get() != 0);
            case LogEntry.RESIZE -> new LogEntry.Resize(in.getInt(), in.getLong());
            case LogEntry.DELETE -> new LogEntry.Delete(in.getInt());
            case LogEntry.REVERT -> new LogEntry.Revert(in.getInt(), in.getInt());
            case LogEntry.COMPRESSION -> new LogEntry.Compression(in.getInt(), in.get() != 0);
            default -> throw new IllegalStateException("unknown log entry type " + type);
        };
        if (in.position() != start + length) {
            throw new IllegalStateException("log entry of type " + type + " has length " + length);
        }
        return entry;
    }

    private static byte type(LogEntry entry) {
        return switch (entry) {
            case LogEntry.Write w -> LogEntry.WRITE;
            case LogEntry.Unmap u -> LogEntry.UNMAP;
            case LogEntry.Relocate r -> LogEntry.RELOCATE;
            case LogEntry.Create c -> LogEntry.CREATE;
            case LogEntry.Clone c -> LogEntry.CLONE;
            case LogEntry.Resize r -> LogEntry.RESIZE;
            case LogEntry.Delete d -> LogEntry.DELETE;
            case LogEntry.Revert r -> LogEntry.REVERT;
            case LogEntry.Compression c -> LogEntry.COMPRESSION;
        };
    }

    private static int crc(ByteBuffer buffer, int from, int to) {
        CRC32C crc = new CRC32C();
        crc.update(buffer.duplicate().position(from).limit(to));
        return (int) crc.getValue();
    }

    /** Whether every stored block of the batch matches the CRC32C its entry recorded. */
    public static boolean payloadIntact(Batch batch, ByteBuffer segmentBytes, BlockCodec codec) {
        return payloadEnd(batch, segmentBytes, codec) >= 0;
    }

    /** Where the batch's stored blocks end, or -1 if one fails the CRC32C its entry recorded. */
    private static int payloadEnd(Batch batch, ByteBuffer segmentBytes, BlockCodec codec) {
        int at = batch.payloadOffset();
        for (LogEntry entry : batch.entries()) {
            switch (entry) {
                case LogEntry.Write w -> {
                    for (int i = 0; i < w.blocks(); i++) {
                        if (codec.crc(w.lba() + i, segmentBytes, at, w.length(i)) != w.crc(i)) {
                            return -1;
                        }
                        at += w.length(i);
                    }
                }
                case LogEntry.Relocate r -> {
                    if (codec.crc(r.lba(), segmentBytes, at, r.length()) != r.crc()) {
                        return -1;
                    }
                    at += r.length();
                }
                default -> {
                }
            }
        }
        return at;
    }

    /**
     * Whether the segment's bytes up to {@code written} are a valid header and whole batches whose headers,
     * entries and stored blocks all pass their CRC32Cs and whose padding is zeros, the last ending exactly
     * at {@code written}: every byte of a sealed log segment's written part is checked. The scrub's check.
     */
    public static boolean segmentIntact(ByteBuffer segmentBytes, int segment, int written, int alignment,
                                        BlockCodec codec) {
        if (openSequence(segmentBytes.duplicate().position(0), segment) < 0 || segmentBytes.getInt(28) != 0) {
            return false;
        }
        int offset = SEGMENT_HEADER;
        while (offset < written) {
            Batch batch = parse(segmentBytes.duplicate().position(offset).limit(written), offset, alignment);
            int end = batch == null ? -1 : payloadEnd(batch, segmentBytes, codec);
            if (end < 0 || end > offset + batch.length()) {
                return false;
            }
            for (int at = end; at < offset + batch.length(); at++) {
                if (segmentBytes.get(at) != 0) {
                    return false;
                }
            }
            offset += batch.length();
        }
        return offset == written;
    }
}
