package io.basalt.nvmetcp.host;

import io.basalt.nvmetcp.auth.AuthMessages;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Encoders of the submission queue entries a host sends. Each fills the command's own fields into a
 * zeroed 64-byte entry; the command identifier and the data SGL are the queue's business, set when it
 * sends the command.
 */
public final class Commands {
    /** Size of the Fabrics Connect data (host ID, controller ID, NQNs). */
    public static final int CONNECT_DATA_LENGTH = 1024;
    public static final int IDENTIFY_LENGTH = 4096;
    public static final int DSM_RANGE_LENGTH = 16;
    /** Controller ID of an admin Connect: any controller (dynamic controller model). */
    public static final int ANY_CONTROLLER = 0xFFFF;

    private static final int CONNECT_CATTR_DISABLE_SQ_FLOW_CONTROL = 1 << 2;
    private static final int PROPERTY_SIZE_8_BYTES = 1;
    private static final int LOG_RETAIN_ASYNC_EVENT = 1 << 15;
    private static final int FEATURE_SELECT_SHIFT = 8;
    private static final int RW_FUA = 1 << 30;
    private static final int WRITE_ZEROES_DEALLOCATE = 1 << 25;
    private static final int DSM_DEALLOCATE = 1 << 2;

    private Commands() {
    }

    /** A new zeroed entry (heap), for commands off the I/O path. */
    public static ByteBuf newSqe(int opcode) {
        ByteBuf sqe = Unpooled.buffer(Sqe.SIZE, Sqe.SIZE).writeZero(Sqe.SIZE);
        sqe.setByte(Sqe.OPCODE, opcode);
        return sqe;
    }

    // ---- I/O ----

    public static void readWrite(ByteBuf sqe, int opcode, int nsid, long lba, int blocks, boolean fua) {
        sqe.setByte(Sqe.OPCODE, opcode);
        sqe.setIntLE(Sqe.NSID, nsid);
        sqe.setLongLE(Sqe.CDW10, lba);
        sqe.setIntLE(Sqe.CDW12, (blocks - 1) | (fua ? RW_FUA : 0));
    }

    public static void flush(ByteBuf sqe, int nsid) {
        sqe.setByte(Sqe.OPCODE, Opcodes.IO_FLUSH);
        sqe.setIntLE(Sqe.NSID, nsid);
    }

    public static void writeZeroes(ByteBuf sqe, int nsid, long lba, int blocks, boolean deallocate) {
        sqe.setByte(Sqe.OPCODE, Opcodes.IO_WRITE_ZEROES);
        sqe.setIntLE(Sqe.NSID, nsid);
        sqe.setLongLE(Sqe.CDW10, lba);
        sqe.setIntLE(Sqe.CDW12, (blocks - 1) | (deallocate ? WRITE_ZEROES_DEALLOCATE : 0));
    }

    /** Dataset Management with the Deallocate attribute over {@code ranges} ranges sent as its data. */
    public static void deallocate(ByteBuf sqe, int nsid, int ranges) {
        sqe.setByte(Sqe.OPCODE, Opcodes.IO_DATASET_MANAGEMENT);
        sqe.setIntLE(Sqe.NSID, nsid);
        sqe.setIntLE(Sqe.CDW10, ranges - 1);
        sqe.setIntLE(Sqe.CDW11, DSM_DEALLOCATE);
    }

    /** Appends one Dataset Management range (no context attributes). */
    public static void dsmRange(ByteBuf ranges, long lba, int blocks) {
        ranges.writeIntLE(0);
        ranges.writeIntLE(blocks);
        ranges.writeLongLE(lba);
    }

    // ---- admin ----

    public static ByteBuf identify(int cns, int nsid) {
        ByteBuf sqe = newSqe(Opcodes.ADMIN_IDENTIFY);
        sqe.setIntLE(Sqe.NSID, nsid);
        sqe.setIntLE(Sqe.CDW10, cns);
        return sqe;
    }

    /** Get Log Page of {@code length} bytes (a multiple of 4) from byte {@code offset} of the page. */
    public static ByteBuf getLogPage(int logId, int nsid, long offset, int length, boolean retainAsyncEvent) {
        return getLogPage(logId, 0, nsid, offset, length, retainAsyncEvent);
    }

    /** Get Log Page with a log specific parameter ({@code lsp}, such as the ANA log's RGO bit). */
    public static ByteBuf getLogPage(int logId, int lsp, int nsid, long offset, int length, boolean retainAsyncEvent) {
        if (length <= 0 || (length & 3) != 0 || (offset & 3) != 0) {
            throw new IllegalArgumentException("log page length and offset must be multiples of 4");
        }
        int dwords = length / 4 - 1;
        ByteBuf sqe = newSqe(Opcodes.ADMIN_GET_LOG_PAGE);
        sqe.setIntLE(Sqe.NSID, nsid);
        sqe.setIntLE(Sqe.CDW10, logId | (lsp & 0x7F) << 8 | (retainAsyncEvent ? LOG_RETAIN_ASYNC_EVENT : 0)
                | (dwords & 0xFFFF) << 16);
        sqe.setIntLE(Sqe.CDW11, dwords >>> 16);
        sqe.setLongLE(Sqe.CDW12, offset);
        return sqe;
    }

    public static ByteBuf setFeatures(int featureId, int value) {
        ByteBuf sqe = newSqe(Opcodes.ADMIN_SET_FEATURES);
        sqe.setIntLE(Sqe.CDW10, featureId);
        sqe.setIntLE(Sqe.CDW11, value);
        return sqe;
    }

    /** Get Features; {@code select} 0 current, 1 default, 2 saved, 3 supported capabilities. */
    public static ByteBuf getFeatures(int featureId, int select) {
        ByteBuf sqe = newSqe(Opcodes.ADMIN_GET_FEATURES);
        sqe.setIntLE(Sqe.CDW10, featureId | select << FEATURE_SELECT_SHIFT);
        return sqe;
    }

    public static ByteBuf keepAlive() {
        return newSqe(Opcodes.ADMIN_KEEP_ALIVE);
    }

    public static ByteBuf asyncEventRequest() {
        return newSqe(Opcodes.ADMIN_ASYNC_EVENT_REQUEST);
    }

    // ---- fabrics ----

    private static ByteBuf fabrics(int fctype) {
        ByteBuf sqe = newSqe(Opcodes.FABRICS);
        sqe.setByte(Sqe.FCTYPE, fctype);
        return sqe;
    }

    /** Fabrics Connect of queue {@code qid} with {@code queueSize} entries. */
    public static ByteBuf connect(int qid, int queueSize, int keepAliveMillis, boolean disableSqFlowControl) {
        ByteBuf sqe = fabrics(Opcodes.FCTYPE_CONNECT);
        sqe.setShortLE(Sqe.CDW10, 0); // record format 0
        sqe.setShortLE(Sqe.CDW10 + 2, qid);
        sqe.setShortLE(Sqe.CDW11, queueSize - 1);
        sqe.setByte(Sqe.CDW11 + 2, disableSqFlowControl ? CONNECT_CATTR_DISABLE_SQ_FLOW_CONTROL : 0);
        sqe.setIntLE(Sqe.CDW12, keepAliveMillis);
        return sqe;
    }

    /** The Connect data: host ID, controller ID ({@link #ANY_CONTROLLER} for an admin queue), NQNs. */
    public static ByteBuf connectData(UUID hostId, int cntlid, String subnqn, String hostNqn) {
        ByteBuf data = Unpooled.buffer(CONNECT_DATA_LENGTH).writeZero(CONNECT_DATA_LENGTH);
        data.setLong(0, hostId.getMostSignificantBits());
        data.setLong(8, hostId.getLeastSignificantBits());
        data.setShortLE(16, cntlid);
        data.setBytes(256, subnqn.getBytes(StandardCharsets.UTF_8));
        data.setBytes(512, hostNqn.getBytes(StandardCharsets.UTF_8));
        return data;
    }

    public static ByteBuf propertyGet(int offset, boolean eightBytes) {
        ByteBuf sqe = fabrics(Opcodes.FCTYPE_PROPERTY_GET);
        sqe.setByte(Sqe.CDW10, eightBytes ? PROPERTY_SIZE_8_BYTES : 0);
        sqe.setIntLE(Sqe.CDW11, offset);
        return sqe;
    }

    public static ByteBuf propertySet(int offset, long value, boolean eightBytes) {
        ByteBuf sqe = fabrics(Opcodes.FCTYPE_PROPERTY_SET);
        sqe.setByte(Sqe.CDW10, eightBytes ? PROPERTY_SIZE_8_BYTES : 0);
        sqe.setIntLE(Sqe.CDW11, offset);
        sqe.setLongLE(Sqe.CDW12, value);
        return sqe;
    }

    /** Authentication Send of a {@code length}-byte DH-HMAC-CHAP message. */
    public static ByteBuf authenticationSend(int length) {
        return authentication(Opcodes.FCTYPE_AUTHENTICATION_SEND, length);
    }

    /** Authentication Receive of a DH-HMAC-CHAP message of up to {@code length} bytes. */
    public static ByteBuf authenticationReceive(int length) {
        return authentication(Opcodes.FCTYPE_AUTHENTICATION_RECEIVE, length);
    }

    private static ByteBuf authentication(int fctype, int length) {
        ByteBuf sqe = fabrics(fctype);
        sqe.setByte(Sqe.CDW10 + 1, AuthMessages.SPSP);
        sqe.setByte(Sqe.CDW10 + 2, AuthMessages.SPSP);
        sqe.setByte(Sqe.CDW10 + 3, AuthMessages.SECP_DHCHAP);
        sqe.setIntLE(Sqe.CDW11, length);
        return sqe;
    }

    public static ByteBuf disconnect() {
        return fabrics(Opcodes.FCTYPE_DISCONNECT);
    }
}
