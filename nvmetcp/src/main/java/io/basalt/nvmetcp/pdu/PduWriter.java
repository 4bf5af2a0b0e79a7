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
        commonHeader(buf, 0, type, 0, Pdu.IC_LENGTH, 0, Pdu.IC_LENGTH);
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
        commonHeader(buf, 0, type, 0, Pdu.TERM_REQ_HEADER_LENGTH, errorData == 0 ? 0 : Pdu.TERM_REQ_HEADER_LENGTH, plen);
        buf.setShortLE(Pdu.TERM_FES, fes);
        buf.setIntLE(Pdu.TERM_FEI, fei);
        if (errorData > 0) {
            buf.writeBytes(offending, offending.readerIndex(), errorData);
        }
        return buf;
    }

    /** Writes a CapsuleResp carrying one completion queue entry. */
    public void writeCapsuleResp(Channel ch, int dw0, int dw1, int sqhd, int sqid, int cid, int status) {
        ByteBuf buf = ch.alloc().buffer(capsuleRespLength());
        appendCapsuleResp(buf, dw0, dw1, sqhd, sqid, cid, status);
        ch.write(buf, ch.voidPromise());
    }

    /**
     * Bytes a buffer for controller-to-host data leaves in front of the data for its C2HData header
     * (with header digest and padding), so that the PDU goes out as that one buffer
     * ({@link #c2hDataInPlace}).
     */
    public int inPlaceHeaderRoom() {
        return headerEnd(Pdu.DATA_HEADER_LENGTH, 1);
    }

    /** Bytes such a buffer leaves after the data: the data digest, and the CapsuleResp if one follows. */
    public int inPlaceTrailerRoom(boolean withCapsuleResp) {
        return (dataDigest ? Pdu.DIGEST_LENGTH : 0) + (withCapsuleResp ? capsuleRespLength() : 0);
    }

    /**
     * Turns {@code buf}, holding {@code length} bytes of data after {@link #inPlaceHeaderRoom()} bytes
     * and room for {@link #inPlaceTrailerRoom} after them, into a command's whole C2HData PDU (the
     * only one of its transfer), ready to write as one buffer; {@link #appendCapsuleResp} may follow.
     */
    public void c2hDataInPlace(ByteBuf buf, int extraFlags, int cid, int length) {
        int room = inPlaceHeaderRoom();
        buf.setZero(0, room);
        header(buf, 0, Pdu.C2H_DATA, extraFlags, Pdu.DATA_HEADER_LENGTH, length);
        dataFields(buf, 0, cid, 0, 0, length);
        finishHeader(buf, 0, Pdu.DATA_HEADER_LENGTH);
        buf.setIndex(0, room + length);
        if (dataDigest) {
            buf.writeIntLE(digest.compute(buf, room, length));
        }
    }

    /**
     * Appends a CapsuleResp to {@code buf} at its writer index: after a read's data (within the room of
     * {@link #inPlaceTrailerRoom}), so that the data and its completion leave as one buffer, or after
     * other completions and R2Ts, so that several leave as one buffer.
     */
    public void appendCapsuleResp(ByteBuf buf, int dw0, int dw1, int sqhd, int sqid, int cid, int status) {
        int at = buf.writerIndex();
        int length = capsuleRespLength();
        buf.writeZero(length);
        header(buf, at, Pdu.CAPSULE_RESP, 0, Pdu.CAPSULE_RESP_HEADER_LENGTH, 0);
        buf.setIntLE(at + 8, dw0);
        buf.setIntLE(at + 12, dw1);
        buf.setShortLE(at + 16, sqhd);
        buf.setShortLE(at + 18, sqid);
        buf.setShortLE(at + 20, cid);
        buf.setShortLE(at + 22, status << 1);
        finishHeader(buf, at, Pdu.CAPSULE_RESP_HEADER_LENGTH);
    }

    private int capsuleRespLength() {
        return headerEnd(Pdu.CAPSULE_RESP_HEADER_LENGTH, 0);
    }

    /**
     * Bytes of the longest PDU without data a controller sends per command, a CapsuleResp or an R2T
     * (both have 24-byte headers), with the header digest if negotiated.
     */
    public int controlPduLength() {
        return Math.max(capsuleRespLength(), headerEnd(Pdu.R2T_HEADER_LENGTH, 0));
    }

    /** Writes an R2T asking for {@code length} bytes at {@code offset} of command {@code cid}. */
    public void writeR2T(Channel ch, int cid, int ttag, int offset, int length) {
        ByteBuf buf = ch.alloc().buffer(headerEnd(Pdu.R2T_HEADER_LENGTH, 0));
        appendR2T(buf, cid, ttag, offset, length);
        ch.write(buf, ch.voidPromise());
    }

    /** Appends an R2T to {@code buf} at its writer index, so that several leave as one buffer. */
    public void appendR2T(ByteBuf buf, int cid, int ttag, int offset, int length) {
        int at = buf.writerIndex();
        buf.writeZero(headerEnd(Pdu.R2T_HEADER_LENGTH, 0));
        header(buf, at, Pdu.R2T, 0, Pdu.R2T_HEADER_LENGTH, 0);
        dataFields(buf, at, cid, ttag, offset, length);
        finishHeader(buf, at, Pdu.R2T_HEADER_LENGTH);
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
        dataFields(buf, 0, cid, ttag, offset, data.readableBytes());
        writeWithData(ch, buf, Pdu.DATA_HEADER_LENGTH, data);
    }

    private static void dataFields(ByteBuf buf, int at, int cid, int ttag, int offset, int length) {
        buf.setShortLE(at + Pdu.DATA_CCCID, cid);
        buf.setShortLE(at + Pdu.DATA_TTAG, ttag);
        buf.setIntLE(at + Pdu.DATA_OFFSET, offset);
        buf.setIntLE(at + Pdu.DATA_LENGTH, length);
    }

    private void writeWithData(Channel ch, ByteBuf header, int hlen, ByteBuf data) {
        if (data == null || !data.isReadable()) {
            if (data != null) {
                data.release();
            }
            ch.write(finishHeader(header, 0, hlen), ch.voidPromise());
            return;
        }
        int crc = dataDigest ? digest.compute(data, data.readerIndex(), data.readableBytes()) : 0;
        ch.write(finishHeader(header, 0, hlen), ch.voidPromise());
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
        int headerEnd = headerEnd(hlen, dataLength);
        ByteBuf buf = alloc.buffer(headerEnd);
        buf.writeZero(headerEnd);
        header(buf, 0, type, extraFlags, hlen, dataLength);
        return buf;
    }

    /** Where the data starts (after header, header digest and padding), or the header's end without data. */
    private int headerEnd(int hlen, int dataLength) {
        return dataLength > 0 ? dataOffset(hlen) : hlen + (headerDigest ? Pdu.DIGEST_LENGTH : 0);
    }

    /** Sets the common header at {@code at} for {@code dataLength} bytes of data: flags, PDO and PLEN. */
    private void header(ByteBuf buf, int at, int type, int extraFlags, int hlen, int dataLength) {
        int headerEnd = headerEnd(hlen, dataLength);
        int plen = headerEnd + dataLength + (dataLength > 0 && dataDigest ? Pdu.DIGEST_LENGTH : 0);
        int flags = extraFlags | (headerDigest ? Pdu.FLAG_HDGST : 0) | (dataLength > 0 && dataDigest ? Pdu.FLAG_DDGST : 0);
        commonHeader(buf, at, type, flags, hlen, dataLength > 0 ? headerEnd : 0, plen);
    }

    /** Adds the header digest, if negotiated, to the header of {@code hlen} bytes at {@code at}. */
    private ByteBuf finishHeader(ByteBuf buf, int at, int hlen) {
        if (headerDigest) {
            buf.setIntLE(at + hlen, digest.compute(buf, at, hlen));
        }
        return buf;
    }

    private static void commonHeader(ByteBuf buf, int at, int type, int flags, int hlen, int pdo, int plen) {
        buf.setByte(at + Pdu.TYPE, type);
        buf.setByte(at + Pdu.FLAGS, flags);
        buf.setByte(at + Pdu.HLEN, hlen);
        buf.setByte(at + Pdu.PDO, pdo);
        buf.setIntLE(at + Pdu.PLEN, plen);
    }
}
