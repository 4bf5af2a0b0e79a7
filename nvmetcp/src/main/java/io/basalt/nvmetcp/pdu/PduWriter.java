package io.basalt.nvmetcp.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;

/**
 * Writes PDUs of one connection, adding header and data digests and data alignment as negotiated
 * in the connection's initialize exchange. Data buffers are written as they are (no copy), with the
 * channel's void promise (no allocation per PDU): a failed write reaches exceptionCaught.
 */
public final class PduWriter {
    private final Crc32cDigest digest = new Crc32cDigest();
    private boolean headerDigest;
    private boolean dataDigest;
    private int dataAlignment = 4;

    /** Applies the initialize exchange: digests and the peer's required data alignment (PDA). */
    public void negotiated(boolean headerDigest, boolean dataDigest, int pda) {
        this.headerDigest = headerDigest;
        this.dataDigest = dataDigest;
        this.dataAlignment = (pda + 1) * 4;
    }

    public boolean headerDigest() {
        return headerDigest;
    }

    public boolean dataDigest() {
        return dataDigest;
    }

    public Crc32cDigest digest() {
        return digest;
    }

    /** Bytes from the start of a PDU to its data, given its header length. */
    public int dataOffset(int hlen) {
        int end = hlen + (headerDigest ? Pdu.DIGEST_LENGTH : 0);
        return (end + dataAlignment - 1) / dataAlignment * dataAlignment;
    }

    public static ByteBuf icReq(ByteBufAllocator alloc, int hpda, boolean headerDigest, boolean dataDigest, int maxR2t) {
        ByteBuf buf = icHeader(alloc, Pdu.IC_REQ, hpda, headerDigest, dataDigest);
        buf.setIntLE(Pdu.IC_MAXR2T_OR_MAXH2CDATA, maxR2t);
        return buf;
    }

    public static ByteBuf icResp(ByteBufAllocator alloc, int cpda, boolean headerDigest, boolean dataDigest, int maxH2CData) {
        ByteBuf buf = icHeader(alloc, Pdu.IC_RESP, cpda, headerDigest, dataDigest);
        buf.setIntLE(Pdu.IC_MAXR2T_OR_MAXH2CDATA, maxH2CData);
        return buf;
    }

    private static ByteBuf icHeader(ByteBufAllocator alloc, int type, int pda, boolean headerDigest, boolean dataDigest) {
        ByteBuf buf = alloc.buffer(Pdu.IC_LENGTH);
        buf.writeZero(Pdu.IC_LENGTH);
        commonHeader(buf, type, 0, Pdu.IC_LENGTH, 0, Pdu.IC_LENGTH);
        buf.setShortLE(Pdu.IC_PFV, 0);
        buf.setByte(Pdu.IC_PDA, pda);
        buf.setByte(Pdu.IC_DIGEST, (headerDigest ? Pdu.IC_DIGEST_HEADER : 0) | (dataDigest ? Pdu.IC_DIGEST_DATA : 0));
        return buf;
    }

    /**
     * A TermReq (never digested) carrying back up to {@link Pdu#TERM_MAX_ERROR_DATA} bytes of the
     * offending header, which may be null.
     */
    public static ByteBuf termReq(ByteBufAllocator alloc, int type, int fes, int fei, ByteBuf offending) {
        int errorData = offending == null ? 0 : Math.min(offending.readableBytes(), Pdu.TERM_MAX_ERROR_DATA);
        int plen = Pdu.TERM_REQ_HEADER_LENGTH + errorData;
        ByteBuf buf = alloc.buffer(plen);
        buf.writeZero(Pdu.TERM_REQ_HEADER_LENGTH);
        commonHeader(buf, type, 0, Pdu.TERM_REQ_HEADER_LENGTH, errorData == 0 ? 0 : Pdu.TERM_REQ_HEADER_LENGTH, plen);
        buf.setShortLE(Pdu.TERM_FES, fes);
        buf.setIntLE(Pdu.TERM_FEI, fei);
        if (errorData > 0) {
            buf.writeBytes(offending, offending.readerIndex(), errorData);
        }
        return buf;
    }

    /** Writes a CapsuleResp carrying one completion queue entry. */
    public void writeCapsuleResp(Channel ch, int dw0, int dw1, int sqhd, int sqid, int cid, int status) {
        ByteBuf buf = headerBuffer(ch.alloc(), Pdu.CAPSULE_RESP, 0, Pdu.CAPSULE_RESP_HEADER_LENGTH, 0);
        buf.setIntLE(8, dw0);
        buf.setIntLE(12, dw1);
        buf.setShortLE(16, sqhd);
        buf.setShortLE(18, sqid);
        buf.setShortLE(20, cid);
        buf.setShortLE(22, status << 1);
        ch.write(finishHeader(buf, Pdu.CAPSULE_RESP_HEADER_LENGTH), ch.voidPromise());
    }

    /** Writes an R2T asking for {@code length} bytes at {@code offset} of command {@code cid}. */
    public void writeR2T(Channel ch, int cid, int ttag, int offset, int length) {
        ByteBuf buf = headerBuffer(ch.alloc(), Pdu.R2T, 0, Pdu.R2T_HEADER_LENGTH, 0);
        dataFields(buf, cid, ttag, offset, length);
        ch.write(finishHeader(buf, Pdu.R2T_HEADER_LENGTH), ch.voidPromise());
    }

    /** Writes a CapsuleCmd: the 64-byte SQE and optional in-capsule data (consumed, may be null). */
    public void writeCapsuleCmd(Channel ch, ByteBuf sqe, int sqeIndex, ByteBuf data) {
        int dataLength = data == null ? 0 : data.readableBytes();
        ByteBuf buf = headerBuffer(ch.alloc(), Pdu.CAPSULE_CMD, 0, Pdu.CAPSULE_CMD_HEADER_LENGTH, dataLength);
        buf.setBytes(Pdu.COMMON_HEADER_LENGTH, sqe, sqeIndex, 64);
        writeWithData(ch, buf, Pdu.CAPSULE_CMD_HEADER_LENGTH, data);
    }

    /**
     * Writes one C2HData or H2CData PDU carrying {@code data} (consumed), at {@code offset} of the
     * command's transfer.
     */
    public void writeData(Channel ch, int type, int extraFlags, int cid, int ttag, int offset, ByteBuf data) {
        ByteBuf buf = headerBuffer(ch.alloc(), type, extraFlags, Pdu.DATA_HEADER_LENGTH, data.readableBytes());
        dataFields(buf, cid, ttag, offset, data.readableBytes());
        writeWithData(ch, buf, Pdu.DATA_HEADER_LENGTH, data);
    }

    private static void dataFields(ByteBuf buf, int cid, int ttag, int offset, int length) {
        buf.setShortLE(Pdu.DATA_CCCID, cid);
        buf.setShortLE(Pdu.DATA_TTAG, ttag);
        buf.setIntLE(Pdu.DATA_OFFSET, offset);
        buf.setIntLE(Pdu.DATA_LENGTH, length);
    }

    private void writeWithData(Channel ch, ByteBuf header, int hlen, ByteBuf data) {
        if (data == null || !data.isReadable()) {
            if (data != null) {
                data.release();
            }
            ch.write(finishHeader(header, hlen), ch.voidPromise());
            return;
        }
        int crc = dataDigest ? digest.compute(data, data.readerIndex(), data.readableBytes()) : 0;
        ch.write(finishHeader(header, hlen), ch.voidPromise());
        ch.write(data, ch.voidPromise());
        if (dataDigest) {
            ch.write(ch.alloc().buffer(Pdu.DIGEST_LENGTH).writeIntLE(crc), ch.voidPromise());
        }
    }

    /**
     * A buffer holding the header (its type-specific fields still zero), the header digest's room and
     * the padding before the data, with PDO and PLEN set for {@code dataLength} bytes of data.
     */
    private ByteBuf headerBuffer(ByteBufAllocator alloc, int type, int extraFlags, int hlen, int dataLength) {
        int pdo = dataLength > 0 ? dataOffset(hlen) : 0;
        int headerEnd = dataLength > 0 ? pdo : hlen + (headerDigest ? Pdu.DIGEST_LENGTH : 0);
        int plen = headerEnd + dataLength + (dataLength > 0 && dataDigest ? Pdu.DIGEST_LENGTH : 0);
        int flags = extraFlags | (headerDigest ? Pdu.FLAG_HDGST : 0) | (dataLength > 0 && dataDigest ? Pdu.FLAG_DDGST : 0);
        ByteBuf buf = alloc.buffer(headerEnd);
        buf.writeZero(headerEnd);
        commonHeader(buf, type, flags, hlen, pdo, plen);
        return buf;
    }

    private ByteBuf finishHeader(ByteBuf buf, int hlen) {
        if (headerDigest) {
            buf.setIntLE(hlen, digest.compute(buf, 0, hlen));
        }
        return buf;
    }

    private static void commonHeader(ByteBuf buf, int type, int flags, int hlen, int pdo, int plen) {
        buf.setByte(Pdu.TYPE, type);
        buf.setByte(Pdu.FLAGS, flags);
        buf.setByte(Pdu.HLEN, hlen);
        buf.setByte(Pdu.PDO, pdo);
        buf.setIntLE(Pdu.PLEN, plen);
    }
}
