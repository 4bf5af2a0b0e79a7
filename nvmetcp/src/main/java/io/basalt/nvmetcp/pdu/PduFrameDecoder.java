package io.basalt.nvmetcp.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Splits the byte stream into whole PDUs (retained slices), checking only what framing depends on:
 * a known type, its fixed header length, and a PDU length within bounds. Everything else is the
 * handler's business. A violation raises {@link PduException}; no further bytes are read.
 * <p>
 * A PDU longer than one socket read (large H2CData and C2HData) is gathered from the reads that
 * carry it without copying them: a read of at least {@link #LARGE_READ} bytes is appended to the
 * bytes still undecoded as a part of a composite buffer, so the PDU handed on is a slice of the
 * received buffers. Smaller reads are merged (copied) as usual: cheap, and they keep the headers of
 * small PDUs in one piece. The undecoded bytes never exceed one PDU and one read, so neither do the
 * parts.
 */
public final class PduFrameDecoder extends ByteToMessageDecoder {
    /** Smallest socket read appended as a part rather than copied into the undecoded bytes. */
    static final int LARGE_READ = 16 * 1024;
    private static final Cumulator GATHERING = (ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) ->
            (in.readableBytes() >= LARGE_READ ? COMPOSITE_CUMULATOR : MERGE_CUMULATOR).cumulate(alloc, cumulation, in);
    private final int maxPduLength;
    private boolean failed;

    public PduFrameDecoder(int maxPduLength) {
        this.maxPduLength = maxPduLength;
        setCumulator(GATHERING);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (in.readableBytes() >= Pdu.COMMON_HEADER_LENGTH) {
            int start = in.readerIndex();
            int type = in.getUnsignedByte(start + Pdu.TYPE);
            int hlen = in.getUnsignedByte(start + Pdu.HLEN);
            int pdo = in.getUnsignedByte(start + Pdu.PDO);
            long plen = in.getUnsignedIntLE(start + Pdu.PLEN);
            int expected = Pdu.expectedHeaderLength(type);
            if (expected < 0) {
                throw fail(Pdu.TYPE, "unknown PDU type " + Pdu.name(type));
            }
            if (hlen != expected) {
                throw fail(Pdu.HLEN, Pdu.name(type) + " with HLEN " + hlen + ", expected " + expected);
            }
            if (plen < hlen || plen > maxPduLength) {
                throw fail(Pdu.PLEN, Pdu.name(type) + " with PLEN " + plen + " outside [" + hlen + ", " + maxPduLength + "]");
            }
            if (pdo != 0 && (pdo < hlen || pdo > plen)) {
                throw fail(Pdu.PDO, Pdu.name(type) + " with PDO " + pdo + " outside its PDU");
            }
            if (in.readableBytes() < plen) {
                return;
            }
            out.add(in.readRetainedSlice((int) plen));
        }
    }

    private PduException fail(int field, String message) {
        failed = true;
        return new PduException(Pdu.FES_INVALID_HEADER_FIELD, field, message);
    }
}
