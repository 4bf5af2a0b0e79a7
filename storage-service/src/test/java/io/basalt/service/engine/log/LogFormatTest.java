package io.basalt.service.engine.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogFormatTest {
    private static final List<LogEntry> ENTRIES = List.of(
            new LogEntry.Write(7, 123_456_789_012L, new int[] {4096, 100, 65_535}, new int[] {-1, 0, 42}),
            new LogEntry.Unmap(8, 5, 1L << 40),
            new LogEntry.Relocate(9, 77, 0x1234_5678_9ABCL, 3000, -7),
            new LogEntry.Create(10, 512, 1L << 33, true),
            new LogEntry.Clone(11, 10, 99, false, true),
            new LogEntry.Resize(12, 1 << 20),
            new LogEntry.Delete(13),
            new LogEntry.Revert(14, 15),
            new LogEntry.Compression(16, false),
            new LogEntry.Compression(17, true));

    /** A batch as the writer lays it out: header, entries, payload, padding. */
    private static ByteBuffer batch(List<LogEntry> entries, byte[] payload, long sequence) {
        ByteBuffer header = ByteBuffer.allocate(LogFormat.BATCH_HEADER).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer body = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        for (LogEntry e : entries) {
            int before = body.position();
            LogFormat.encode(e, body);
            assertEquals(LogFormat.encodedLength(e), body.position() - before, e.toString());
        }
        int entryBytes = body.position();
        LogFormat.sealBatch(header, body, entryBytes, payload.length, entries.size(), sequence, new CRC32C());
        int length = LogFormat.align(LogFormat.BATCH_HEADER + entryBytes + payload.length);
        ByteBuffer out = ByteBuffer.allocate(length + 64);
        out.put(header.array()).put(body.array(), 0, entryBytes).put(payload);
        return out.clear();
    }

    @Test
    void everyEntryTypeRoundTrips() {
        byte[] payload = new byte[4096 + 100 + 65_535 + 3000];
        new Random(1).nextBytes(payload);
        ByteBuffer bytes = batch(ENTRIES, payload, 42);
        LogFormat.Batch parsed = LogFormat.parse(bytes, 1000);
        assertNotNull(parsed);
        assertEquals(42, parsed.sequence());
        assertEquals(1000, parsed.offset());
        assertEquals(ENTRIES.size(), parsed.entries().size());
        assertEquals(0, parsed.length() % 8);
        int entryBytes = ENTRIES.stream().mapToInt(LogFormat::encodedLength).sum();
        assertEquals(1000 + LogFormat.BATCH_HEADER + entryBytes, parsed.payloadOffset());
        for (int i = 0; i < ENTRIES.size(); i++) {
            LogEntry expected = ENTRIES.get(i);
            LogEntry actual = parsed.entries().get(i);
            if (expected instanceof LogEntry.Write w) {
                LogEntry.Write a = (LogEntry.Write) actual;
                assertEquals(w.volume(), a.volume());
                assertEquals(w.lba(), a.lba());
                assertEquals(w.blocks(), a.blocks());
                for (int b = 0; b < w.blocks(); b++) {
                    assertEquals(w.length(b), a.length(b));
                    assertEquals(w.crc(b), a.crc(b));
                }
            } else {
                assertEquals(expected, actual);
            }
        }
        assertEquals(payload.length, LogFormat.payloadLength(ENTRIES.get(0)) + LogFormat.payloadLength(ENTRIES.get(2)));
    }

    @Test
    void damagedBatchesAreNotParsed() {
        byte[] payload = new byte[4096 + 100 + 65_535 + 3000];
        ByteBuffer good = batch(ENTRIES, payload, 42);
        int entryBytes = ENTRIES.stream().mapToInt(LogFormat::encodedLength).sum();
        // every byte of the header (but the reserved word) and of the entries is covered
        for (int at = 0; at < LogFormat.BATCH_HEADER + entryBytes; at++) {
            if (at >= 28 && at < 32) {
                continue;
            }
            ByteBuffer bad = ByteBuffer.wrap(good.array().clone());
            bad.put(at, (byte) (bad.get(at) ^ 0x01));
            assertNull(LogFormat.parse(bad, 0), "flipped byte " + at);
        }
        assertNull(LogFormat.parse(ByteBuffer.allocate(4096), 0), "zeros are no batch");
        ByteBuffer truncated = ByteBuffer.wrap(good.array(), 0, LogFormat.BATCH_HEADER + entryBytes + 10).slice();
        assertNull(LogFormat.parse(truncated, 0), "a batch longer than the bytes left");
    }

    @Test
    void segmentHeadersCheckMagicSegmentAndChecksum() {
        ByteBuffer header = LogFormat.segmentHeader(17, 12345);
        assertEquals(12345, LogFormat.openSequence(header, 17));
        assertEquals(-1, LogFormat.openSequence(header, 18), "the header of another segment");
        for (int at = 0; at < 28; at++) {
            ByteBuffer bad = ByteBuffer.wrap(header.array().clone());
            bad.put(at, (byte) (bad.get(at) + 1));
            assertEquals(-1, LogFormat.openSequence(bad, 17), "changed byte " + at);
        }
        assertEquals(-1, LogFormat.openSequence(ByteBuffer.allocate(32), 0));
    }

    @Test
    void blockCodecCompressesWhenItPaysAndSeedsTheCrcWithTheLba() {
        BlockCodec codec = new BlockCodec();
        ByteBuf compressible = Unpooled.buffer(4096);
        for (int i = 0; i < 4096 / 8; i++) {
            compressible.writeLong(i % 4);
        }
        byte[] noise = new byte[4096];
        new Random(3).nextBytes(noise);
        ByteBuf incompressible = Unpooled.wrappedBuffer(noise);
        ByteBuffer out = ByteBuffer.allocate(16384);

        int small = codec.encode(compressible, 0, 4096, true, out);
        assertTrue(small < 4096 - 4096 / 8, "compressed to " + small);
        assertTrue(BlockCodec.isCompressed(small, 4096));
        ByteBuffer plain = ByteBuffer.allocate(4096);
        assertTrue(codec.decompress(out, 0, small, plain, 4096));
        assertArrayEquals(compressible.array(), plain.array());

        int start = out.position();
        int raw = codec.encode(incompressible, 0, 4096, true, out);
        assertEquals(4096, raw, "incompressible data is stored raw");
        assertEquals(start + 4096, out.position());
        assertArrayEquals(noise, java.util.Arrays.copyOfRange(out.array(), start, start + 4096));
        assertEquals(4096, codec.encode(compressible, 0, 4096, false, out), "no compression when off");

        int crc = codec.crc(5, out, start, 4096);
        assertEquals(crc, codec.crc(5, out, start, 4096));
        assertNotEquals(crc, codec.crc(6, out, start, 4096), "the same bytes at another LBA");
        out.put(start + 100, (byte) (out.get(start + 100) ^ 1));
        assertNotEquals(crc, codec.crc(5, out, start, 4096), "a flipped bit");

        ByteBuffer garbage = ByteBuffer.wrap(noise);
        codec.decompress(garbage, 0, 300, ByteBuffer.allocate(4096), 4096); // garbage fails without throwing
    }
}
