package io.basalt.nvmetcp.pdu;

import io.netty.buffer.ByteBuf;

/**
 * Checks the framing of a received PDU against what the initialize exchange negotiated (digest
 * flags, header digest, data offset) and locates its data. One per connection, used on its event
 * loop; what a data digest mismatch means is the caller's decision (a target ends the connection, a
 * host fails the command).
 */
public final class PduReader {
    private final PduWriter negotiated;
    private int dataLength;

    /** @param negotiated the connection's writer, which holds the negotiated digests */
    public PduReader(PduWriter negotiated) {
        this.negotiated = negotiated;
    }

    /**
     * Verifies the header digest and the digest flags; returns the absolute index of the PDU's data,
     * or -1 if it has none. {@link #dataLength()} then holds the data's length, without its digest.
     */
    public int dataIndex(ByteBuf pdu) {
        int ri = pdu.readerIndex();
        int flags = Pdu.flags(pdu);
        int hlen = Pdu.hlen(pdu);
        int pdo = Pdu.pdo(pdu);
        int plen = Pdu.plen(pdu);
        boolean hasHeaderDigest = (flags & Pdu.FLAG_HDGST) != 0;
        boolean hasDataDigest = (flags & Pdu.FLAG_DDGST) != 0;
        if (hasHeaderDigest != negotiated.headerDigest()) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.FLAGS, "header digest flag contradicts the negotiation");
        }
        int headerEnd = hlen + (hasHeaderDigest ? Pdu.DIGEST_LENGTH : 0);
        if (plen < headerEnd) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.PLEN, "PLEN shorter than the header and its digest");
        }
        if (hasHeaderDigest && !negotiated.digest().verify(pdu, ri, hlen)) {
            throw new PduException(Pdu.FES_HEADER_DIGEST_ERROR, hlen, "header digest mismatch on " + Pdu.name(Pdu.type(pdu)));
        }
        dataLength = 0;
        if (pdo == 0) {
            if (plen != headerEnd || hasDataDigest) {
                throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.PLEN, "data without a data offset");
            }
            return -1;
        }
        if (pdo < headerEnd) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.PDO, "PDO overlaps the header digest");
        }
        if (hasDataDigest != negotiated.dataDigest()) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.FLAGS, "data digest flag contradicts the negotiation");
        }
        dataLength = plen - pdo - (hasDataDigest ? Pdu.DIGEST_LENGTH : 0);
        if (dataLength <= 0) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.PLEN, "PDO with no data");
        }
        return ri + pdo;
    }

    /** Length of the data found by the last {@link #dataIndex} call. */
    public int dataLength() {
        return dataLength;
    }

    /** Whether the data at {@code index} (as located by {@link #dataIndex}) matches its digest, if one was negotiated. */
    public boolean dataDigestMatches(ByteBuf pdu, int index) {
        return !negotiated.dataDigest() || negotiated.digest().verify(pdu, index, dataLength);
    }
}
