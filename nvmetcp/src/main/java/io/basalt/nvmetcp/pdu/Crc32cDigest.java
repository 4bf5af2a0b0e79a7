package io.basalt.nvmetcp.pdu;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC32C header and data digests, stored little endian after the part they cover. One instance
 * per connection (it keeps state between calls and is not thread safe).
 */
public final class Crc32cDigest {
    private final CRC32C crc = new CRC32C();

    /** CRC32C of {@code length} bytes of {@code buf} starting at absolute {@code index}. */
    public int compute(ByteBuf buf, int index, int length) {
        crc.reset();
        if (length > 0) {
            if (buf.nioBufferCount() == 1) {
                crc.update(buf.internalNioBuffer(index, length));
            } else {
                for (ByteBuffer part : buf.nioBuffers(index, length)) {
                    crc.update(part);
                }
            }
        }
        return (int) crc.getValue();
    }

    /** Whether the 4 bytes at {@code index + length} are the digest of the {@code length} bytes at {@code index}. */
    public boolean verify(ByteBuf buf, int index, int length) {
        return compute(buf, index, length) == buf.getIntLE(index + length);
    }
}
