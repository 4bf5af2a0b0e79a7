package io.basalt.service.engine.log;

import io.netty.buffer.ByteBuf;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * How one logical block is stored: LZ4-compressed when that saves at least an eighth of the block,
 * raw otherwise, and checksummed with CRC32C seeded by its LBA (a block read back from the wrong
 * place fails the check as surely as a damaged one). Not thread-safe: one instance per thread.
 */
public final class BlockCodec {
    private static final LZ4Factory LZ4 = LZ4Factory.fastestInstance();
    private final LZ4Compressor compressor = LZ4.fastCompressor();
    private final LZ4SafeDecompressor decompressor = LZ4.safeDecompressor();
    private final CRC32C crc = new CRC32C();
    private final ByteBuffer lbaBytes = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);

    /**
     * Stores block bytes {@code src[index, index+blockSize)} at {@code out}'s position, advancing it.
     *
     * @return the stored length; less than {@code blockSize} means compressed
     */
    public int encode(ByteBuf src, int index, int blockSize, boolean compress, ByteBuffer out) {
        int start = out.position();
        if (compress) {
            int limit = blockSize - blockSize / 8;
            ByteBuffer source = src.nioBuffer(index, blockSize);
            int length = compressBounded(source, blockSize, out, start, limit);
            if (length > 0) {
                out.position(start + length);
                return length;
            }
        }
        src.getBytes(index, out.limit(start + blockSize));
        out.limit(out.capacity());
        return blockSize;
    }

    private int compressBounded(ByteBuffer source, int blockSize, ByteBuffer out, int at, int limit) {
        try {
            return compressor.compress(source, source.position(), blockSize, out, at, limit);
        } catch (net.jpountz.lz4.LZ4Exception doesNotFit) {
            return -1;
        }
    }

    /**
     * CRC32C of a stored block: its LBA, then its stored bytes {@code stored[from, from+length)}. Runs on
     * every block written and read, so it makes no view of {@code stored}: it moves the buffer's position
     * and limit and puts them back, which needs {@code stored} to be the calling thread's alone for the
     * call (the writer's batch, a read's destination, a recovery's segment).
     */
    public int crc(long lba, ByteBuffer stored, int from, int length) {
        crc.reset();
        crc.update(lbaBytes.clear().putLong(lba).flip());
        int position = stored.position();
        int limit = stored.limit();
        crc.update(stored.limit(from + length).position(from));
        stored.limit(limit).position(position);
        return (int) crc.getValue();
    }

    /** Expands a compressed block into {@code dst} at its position; false if the bytes do not decompress to a block. */
    public boolean decompress(ByteBuffer stored, int from, int length, ByteBuffer dst, int blockSize) {
        try {
            int n = decompressor.decompress(stored, from, length, dst, dst.position(), blockSize);
            if (n != blockSize) {
                return false;
            }
            dst.position(dst.position() + n);
            return true;
        } catch (net.jpountz.lz4.LZ4Exception e) {
            return false;
        }
    }

    /** True if a stored length means the block is compressed. */
    public static boolean isCompressed(int storedLength, int blockSize) {
        return storedLength < blockSize;
    }
}
