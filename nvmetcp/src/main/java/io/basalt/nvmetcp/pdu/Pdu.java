package io.basalt.nvmetcp.pdu;

import io.netty.buffer.ByteBuf;

/** NVMe/TCP PDU types, flags, header lengths and field offsets (NVMe/TCP Transport Specification). */
public final class Pdu {
    public static final int IC_REQ = 0x00;
    public static final int IC_RESP = 0x01;
    public static final int H2C_TERM_REQ = 0x02;
    public static final int C2H_TERM_REQ = 0x03;
    public static final int CAPSULE_CMD = 0x04;
    public static final int CAPSULE_RESP = 0x05;
    public static final int H2C_DATA = 0x06;
    public static final int C2H_DATA = 0x07;
    public static final int R2T = 0x09;

    public static final int FLAG_HDGST = 0x01;
    public static final int FLAG_DDGST = 0x02;
    public static final int FLAG_DATA_LAST = 0x04;
    public static final int FLAG_DATA_SUCCESS = 0x08;

    public static final int COMMON_HEADER_LENGTH = 8;
    public static final int IC_LENGTH = 128;
    public static final int TERM_REQ_HEADER_LENGTH = 24;
    public static final int CAPSULE_CMD_HEADER_LENGTH = 72;
    public static final int CAPSULE_RESP_HEADER_LENGTH = 24;
    public static final int DATA_HEADER_LENGTH = 24;
    public static final int R2T_HEADER_LENGTH = 24;
    public static final int DIGEST_LENGTH = 4;

    // Common header
    public static final int TYPE = 0;
    public static final int FLAGS = 1;
    public static final int HLEN = 2;
    public static final int PDO = 3;
    public static final int PLEN = 4;

    // ICReq / ICResp
    public static final int IC_PFV = 8;
    public static final int IC_PDA = 10;
    public static final int IC_DIGEST = 11;
    public static final int IC_MAXR2T_OR_MAXH2CDATA = 12;
    public static final int IC_DIGEST_HEADER = 0x01;
    public static final int IC_DIGEST_DATA = 0x02;

    // TermReq
    public static final int TERM_FES = 8;
    public static final int TERM_FEI = 10;
    /** How much of the offending PDU header a TermReq carries back. */
    public static final int TERM_MAX_ERROR_DATA = 152 - TERM_REQ_HEADER_LENGTH;

    // H2CData / C2HData / R2T
    public static final int DATA_CCCID = 8;
    public static final int DATA_TTAG = 10;
    public static final int DATA_OFFSET = 12;
    public static final int DATA_LENGTH = 16;

    // Fatal error status of a TermReq
    public static final int FES_INVALID_HEADER_FIELD = 0x01;
    public static final int FES_PDU_SEQUENCE_ERROR = 0x02;
    public static final int FES_HEADER_DIGEST_ERROR = 0x03;
    public static final int FES_DATA_OUT_OF_RANGE = 0x04;
    public static final int FES_DATA_LIMIT_EXCEEDED = 0x05;
    public static final int FES_UNSUPPORTED_PARAMETER = 0x06;

    private Pdu() {
    }

    public static int type(ByteBuf pdu) {
        return pdu.getUnsignedByte(pdu.readerIndex() + TYPE);
    }

    public static int flags(ByteBuf pdu) {
        return pdu.getUnsignedByte(pdu.readerIndex() + FLAGS);
    }

    public static int hlen(ByteBuf pdu) {
        return pdu.getUnsignedByte(pdu.readerIndex() + HLEN);
    }

    public static int pdo(ByteBuf pdu) {
        return pdu.getUnsignedByte(pdu.readerIndex() + PDO);
    }

    public static int plen(ByteBuf pdu) {
        return pdu.getIntLE(pdu.readerIndex() + PLEN);
    }

    /** The fixed header length a PDU type must have, or -1 for a type that does not exist. */
    public static int expectedHeaderLength(int type) {
        return switch (type) {
            case IC_REQ, IC_RESP -> IC_LENGTH;
            case H2C_TERM_REQ, C2H_TERM_REQ -> TERM_REQ_HEADER_LENGTH;
            case CAPSULE_CMD -> CAPSULE_CMD_HEADER_LENGTH;
            case CAPSULE_RESP -> CAPSULE_RESP_HEADER_LENGTH;
            case H2C_DATA, C2H_DATA -> DATA_HEADER_LENGTH;
            case R2T -> R2T_HEADER_LENGTH;
            default -> -1;
        };
    }

    public static String name(int type) {
        return switch (type) {
            case IC_REQ -> "ICReq";
            case IC_RESP -> "ICResp";
            case H2C_TERM_REQ -> "H2CTermReq";
            case C2H_TERM_REQ -> "C2HTermReq";
            case CAPSULE_CMD -> "CapsuleCmd";
            case CAPSULE_RESP -> "CapsuleResp";
            case H2C_DATA -> "H2CData";
            case C2H_DATA -> "C2HData";
            case R2T -> "R2T";
            default -> String.format("unknown(0x%02x)", type);
        };
    }
}
