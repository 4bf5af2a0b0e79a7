package io.basalt.nvmetcp.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Splits the byte stream into whole PDUs (retained slices), checking only what framing depends on:
 * a known type, its fixed header length, and a PDU length within bounds. Everything else is the
 * handler's business. A violation raises {@link PduException}; no further bytes are read.
 */
public final class PduFrameDecoder extends ByteToMessageDecoder {
    private final int maxPduLength;
    private boolean failed;

    public PduFrameDecoder(int maxPduLength) {
        this.maxPduLength = maxPduLength;
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
