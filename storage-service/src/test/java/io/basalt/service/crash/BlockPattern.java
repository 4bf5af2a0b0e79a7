package io.basalt.service.crash;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The content the crash test writes into one logical block: a header naming the test run, the
 * block's own LBA, the generation (the writer's operation number) and the writer, then
 * pseudo-random bytes derived from those, then a CRC32C of everything before it. A block read back
 * is either all zeros (never written, or deallocated) or exactly the block that some (lba,
 * generation, writer) produces, so torn, corrupted and misplaced blocks are told apart.
 *
 * <pre>
 *   0  magic      8 bytes
 *   8  run id     8
 *  16  lba        8
 *  24  generation 8
 *  32  writer     4
 *  36  fill       blockSize - 40 (xorshift64 of a hash of the fields above)
 *  -4  CRC32C of bytes [0, blockSize - 4)
 * </pre>
 * A run id with its lowest bit set makes compressible blocks: after the first 64 bytes of fill,
 * its first 8 bytes repeat.
 */
final class BlockPattern {
    static final long MAGIC = 0x4241534C54435254L; // "BASLTCRT"
    private static final int HEADER = 36;

    private BlockPattern() {
    }

    /** Writes the block for (lba, generation, writer) into {@code dst} at {@code offset}. */
    static void fill(byte[] dst, int offset, int blockSize, long runId, long lba, long generation, int writer) {
        ByteBuffer b = ByteBuffer.wrap(dst, offset, blockSize).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(MAGIC).putLong(runId).putLong(lba).putLong(generation).putInt(writer);
        long x = mix(runId ^ mix(lba) ^ mix(generation * 31 + writer));
        if (x == 0) {
            x = 1;
        }
        boolean compressible = (runId & 1) != 0;
        long first = 0;
        for (int at = HEADER; at < blockSize - 4; at += 8) {
            if (compressible && at >= HEADER + 64) {
                b.putLong(first);
                continue;
            }
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            if (at == HEADER) {
                first = x;
            }
            b.putLong(x);
        }
        CRC32C crc = new CRC32C();
        crc.update(dst, offset, blockSize - 4);
        b.putInt((int) crc.getValue());
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** What a block read back holds. */
    sealed interface Content permits Zero, Valid, Bad {
    }

    /** All zeros. */
    record Zero() implements Content {
    }

    /** Exactly the block of (lba, generation, writer); lba may differ from where it was read (misplaced). */
    record Valid(long lba, long generation, int writer) implements Content {
    }

    /** Neither zeros nor a whole block of this test. */
    record Bad(String why) implements Content {
    }

    private static final Zero ZERO = new Zero();

    /** Decodes the block at {@code offset}; {@code scratch} is a block-sized buffer. */
    static Content decode(byte[] src, int offset, int blockSize, long runId, byte[] scratch) {
        boolean zero = true;
        for (int i = offset; i < offset + blockSize; i++) {
            if (src[i] != 0) {
                zero = false;
                break;
            }
        }
        if (zero) {
            return ZERO;
        }
        ByteBuffer b = ByteBuffer.wrap(src, offset, blockSize).order(ByteOrder.LITTLE_ENDIAN);
        long magic = b.getLong();
        long run = b.getLong();
        long lba = b.getLong();
        long generation = b.getLong();
        int writer = b.getInt();
        CRC32C crc = new CRC32C();
        crc.update(src, offset, blockSize - 4);
        int stored = ByteBuffer.wrap(src, offset + blockSize - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        boolean crcOk = (int) crc.getValue() == stored;
        if (magic != MAGIC) {
            return new Bad("not a block of this test (magic 0x" + Long.toHexString(magic) + ", CRC32C "
                    + (crcOk ? "valid" : "invalid") + ", " + nonZeroBytes(src, offset, blockSize) + " non-zero bytes)"
                    + (nonZeroBytes(src, offset, blockSize) < blockSize / 2 ? ": partly zero, torn?" : ""));
        }
        if (run != runId) {
            return new Bad("a block of another test run (run id " + Long.toHexString(run) + ")");
        }
        if (!crcOk) {
            return new Bad("torn or corrupted: CRC32C mismatch (header says lba " + lba + " generation " + generation
                    + " writer " + writer + ")");
        }
        fill(scratch, 0, blockSize, runId, lba, generation, writer);
        for (int i = 0; i < blockSize; i++) {
            if (scratch[i] != src[offset + i]) {
                return new Bad("corrupted: valid CRC32C but byte " + i + " differs from the block of lba " + lba
                        + " generation " + generation + " writer " + writer);
            }
        }
        return new Valid(lba, generation, writer);
    }

    private static int nonZeroBytes(byte[] src, int offset, int length) {
        int n = 0;
        for (int i = offset; i < offset + length; i++) {
            if (src[i] != 0) {
                n++;
            }
        }
        return n;
    }
}
