package io.basalt.nvmetcp.nvme;

import io.netty.buffer.ByteBuf;

/**
 * Field accessors for a 64-byte submission queue entry held in a buffer (little endian), so that
 * handlers read commands in place without decoding them into objects.
 */
public final class Sqe {
    public static final int SIZE = 64;

    public static final int OPCODE = 0;
    public static final int FLAGS = 1;
    public static final int CID = 2;
    public static final int NSID = 4;
    public static final int FCTYPE = 4;
    /**
     * Command Dwords 2 and 3: reserved in Read, Write, Write Zeroes and Flush of a namespace formatted
     * without end-to-end protection information, which is all this target serves.
     */
    public static final int CDW2 = 8;
    public static final int SGL_ADDRESS = 24;
    public static final int SGL_LENGTH = 32;
    public static final int SGL_TYPE = 39;
    public static final int CDW10 = 40;
    public static final int CDW11 = 44;
    public static final int CDW12 = 48;
    public static final int CDW13 = 52;
    public static final int CDW14 = 56;
    public static final int CDW15 = 60;

    /** FLAGS bits 1:0, fused operation; bits 7:6, PSDT (11b is reserved). */
    public static final int FLAGS_FUSE = 0x03;
    public static final int FLAGS_PSDT = 0xC0;
    public static final int FLAGS_PSDT_RESERVED = 0xC0;

    /** SGL descriptor type byte: Data Block, offset addressing (in-capsule data). */
    public static final int SGL_INCAPSULE = 0x01;
    /** SGL descriptor type byte: Transport SGL Data Block, transport specific (data through R2T/C2HData). */
    public static final int SGL_TRANSPORT = 0x5A;

    private Sqe() {
    }

    public static int opcode(ByteBuf sqe) {
        return sqe.getUnsignedByte(OPCODE);
    }

    public static int cid(ByteBuf sqe) {
        return sqe.getUnsignedShortLE(CID);
    }

    public static int nsid(ByteBuf sqe) {
        return sqe.getIntLE(NSID);
    }

    public static int fctype(ByteBuf sqe) {
        return sqe.getUnsignedByte(FCTYPE);
    }

    public static int cdw(ByteBuf sqe, int offset) {
        return sqe.getIntLE(offset);
    }

    public static int sglType(ByteBuf sqe) {
        return sqe.getUnsignedByte(SGL_TYPE);
    }

    public static long sglAddress(ByteBuf sqe) {
        return sqe.getLongLE(SGL_ADDRESS);
    }

    public static int sglLength(ByteBuf sqe) {
        return sqe.getIntLE(SGL_LENGTH);
    }

    /** Starting LBA of a Read, Write or Write Zeroes (CDW10-11). */
    public static long slba(ByteBuf sqe) {
        return sqe.getLongLE(CDW10);
    }

    /** Number of logical blocks of a Read, Write or Write Zeroes (CDW12 bits 15:0, zero based). */
    public static int nlb(ByteBuf sqe) {
        return sqe.getUnsignedShortLE(CDW12) + 1;
    }

    /** Force Unit Access (CDW12 bit 30). */
    public static boolean fua(ByteBuf sqe) {
        return (sqe.getIntLE(CDW12) & (1 << 30)) != 0;
    }
}
