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
 * A large PDU (large H2CData and C2HData) is gathered from the socket reads that carry it without
 * copying them: while the PDU being received is at least {@link #LARGE} bytes long, a read of at
 * least {@code LARGE} bytes is appended to the undecoded bytes as a part of a composite buffer, so
 * the PDU handed on is a slice of the received buffers. Everything else is merged (copied) as
 * usual: a stream of small PDUs keeps its headers in one piece and makes no composite, and a host
 * trickling bytes cannot make a part per read. The undecoded bytes never exceed one PDU and one
 * read, so the parts never exceed {@code (maxPduLength + read) / LARGE} and a few.
 */
public final class PduFrameDecoder extends ByteToMessageDecoder {
    /** Smallest PDU, and smallest socket read, gathered as a part rather than copied. */
    static final int LARGE = 16 * 1024;
    private static final Cumulator GATHERING = (ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) ->
            (in.readableBytes() >= LARGE && receivingLargePdu(cumulation) ? COMPOSITE_CUMULATOR : MERGE_CUMULATOR)
                    .cumulate(alloc, cumulation, in);
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

    /** Whether the undecoded bytes start with the header of a PDU of at least {@link #LARGE} bytes (PLEN as sent, unchecked). */
    private static boolean receivingLargePdu(ByteBuf cumulation) {
        return cumulation.readableBytes() >= Pdu.COMMON_HEADER_LENGTH
                && cumulation.getUnsignedIntLE(cumulation.readerIndex() + Pdu.PLEN) >= LARGE;
    }

    private PduException fail(int field, String message) {
        failed = true;
        return new PduException(Pdu.FES_INVALID_HEADER_FIELD, field, message);
    }
}
