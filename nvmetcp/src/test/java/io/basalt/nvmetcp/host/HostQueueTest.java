package io.basalt.nvmetcp.host;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.pdu.Crc32cDigest;
import io.basalt.nvmetcp.pdu.Pdu;
import io.basalt.nvmetcp.protocol.IoResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host queue's side of the protocol, against a scripted controller. */
class HostQueueTest {
    private static final HostOptions OPTIONS = HostOptions.defaults(ScriptedController.HOST_NQN);
    private final UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(true);
    private final List<ScriptedController> controllers = new ArrayList<>();

    @AfterEach
    void noBufferLeaks() {
        controllers.forEach(ScriptedController::close);
        assertEquals(0, alloc.metric().usedDirectMemory(), "direct memory still held");
        assertEquals(0, alloc.metric().usedHeapMemory(), "heap buffers still held");
    }

    private ScriptedController controller(HostOptions options, int queueSize, int inCapsuleLimit, int maxH2CData) {
        ScriptedController c = new ScriptedController(options, queueSize, inCapsuleLimit, alloc);
        controllers.add(c);
        c.initialize(maxH2CData);
        return c;
    }

    private ScriptedController controller() {
        return controller(OPTIONS, 32, 8192, 8192);
    }

    private static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static int sqeByte(ByteBuf capsule, int field) {
        return capsule.getUnsignedByte(capsule.readerIndex() + Pdu.COMMON_HEADER_LENGTH + field);
    }

    private static int sqeInt(ByteBuf capsule, int field) {
        return capsule.getIntLE(capsule.readerIndex() + Pdu.COMMON_HEADER_LENGTH + field);
    }

    private static byte[] dataOf(ByteBuf pdu, int length) {
        return ByteBufUtil.getBytes(pdu, pdu.readerIndex() + Pdu.pdo(pdu), length);
    }

    @Test
    void icReqAsksForTheConfiguredDigests() {
        ScriptedController c = new ScriptedController(OPTIONS.withDigests(true, true), 32, 8192, alloc);
        controllers.add(c);
        ByteBuf icReq = c.initialize(8192);
        assertEquals(Pdu.IC_REQ, Pdu.type(icReq));
        assertEquals(Pdu.IC_LENGTH, Pdu.plen(icReq));
        assertEquals(0, icReq.getUnsignedShortLE(icReq.readerIndex() + Pdu.IC_PFV));
        assertEquals(Pdu.IC_DIGEST_HEADER | Pdu.IC_DIGEST_DATA, icReq.getUnsignedByte(icReq.readerIndex() + Pdu.IC_DIGEST));
        assertEquals(0, icReq.getIntLE(icReq.readerIndex() + Pdu.IC_MAXR2T_OR_MAXH2CDATA), "one R2T per command");
        assertTrue(c.queue.headerDigest() && c.queue.dataDigest());
        assertEquals(8192, c.queue.maxH2CData());
    }

    @Test
    void writeThatFitsTravelsInTheCapsule() {
        ScriptedController c = controller();
        byte[] data = pattern(8192, 1);
        IoResult done = new IoResult();
        c.queue.write(ScriptedController.NSID, 40, 16, Unpooled.wrappedBuffer(data), false, done);
        ByteBuf capsule = c.sentOne();
        assertEquals(Pdu.CAPSULE_CMD, Pdu.type(capsule));
        assertEquals(Pdu.CAPSULE_CMD_HEADER_LENGTH + 8192, Pdu.plen(capsule));
        assertEquals(Opcodes.IO_WRITE, sqeByte(capsule, Sqe.OPCODE));
        assertEquals(0x40, sqeByte(capsule, Sqe.FLAGS) & 0xC0, "PSDT: SGL");
        assertEquals(Sqe.SGL_INCAPSULE, sqeByte(capsule, Sqe.SGL_TYPE));
        assertEquals(8192, sqeInt(capsule, Sqe.SGL_LENGTH));
        assertEquals(40, sqeInt(capsule, Sqe.CDW10));
        assertEquals(15, sqeInt(capsule, Sqe.CDW12), "NLB is zero based");
        assertArrayEquals(data, dataOf(capsule, 8192));
        assertFalse(done.isDone());
        c.capsuleResp(ScriptedController.cid(capsule), Status.SUCCESS, 0);
        assertEquals(Status.SUCCESS, done.status());
    }

    @Test
    void largerWriteWaitsForR2TAndIsCutToMaxH2CData() {
        ScriptedController c = controller();
        byte[] data = pattern(20480, 2);
        IoResult done = new IoResult();
        c.queue.write(ScriptedController.NSID, 0, 40, Unpooled.wrappedBuffer(data), false, done);
        ByteBuf capsule = c.sentOne();
        assertEquals(Pdu.CAPSULE_CMD_HEADER_LENGTH, Pdu.plen(capsule), "no data in the capsule");
        assertEquals(Sqe.SGL_TRANSPORT, sqeByte(capsule, Sqe.SGL_TYPE));
        assertEquals(20480, sqeInt(capsule, Sqe.SGL_LENGTH));
        int cid = ScriptedController.cid(capsule);

        c.r2t(cid, 7, 0, 20480);
        List<ByteBuf> pieces = c.sent();
        int[] offsets = {0, 8192, 16384};
        int[] lengths = {8192, 8192, 4096};
        assertEquals(3, pieces.size(), "MAXH2CDATA is 8 KiB");
        for (int i = 0; i < 3; i++) {
            ByteBuf h2c = pieces.get(i);
            int ri = h2c.readerIndex();
            assertEquals(Pdu.H2C_DATA, Pdu.type(h2c));
            assertEquals(cid, h2c.getUnsignedShortLE(ri + Pdu.DATA_CCCID));
            assertEquals(7, h2c.getUnsignedShortLE(ri + Pdu.DATA_TTAG));
            assertEquals(offsets[i], h2c.getIntLE(ri + Pdu.DATA_OFFSET));
            assertEquals(lengths[i], h2c.getIntLE(ri + Pdu.DATA_LENGTH));
            assertEquals(i == 2, (Pdu.flags(h2c) & Pdu.FLAG_DATA_LAST) != 0, "LAST_PDU only on the last");
            assertArrayEquals(Arrays.copyOfRange(data, offsets[i], offsets[i] + lengths[i]), dataOf(h2c, lengths[i]));
        }
        c.capsuleResp(cid, Status.SUCCESS, 0);
        assertEquals(Status.SUCCESS, done.status());
    }

    @Test
    void writeAnswersSeveralR2TsInOrder() {
        ScriptedController c = controller(OPTIONS, 32, 0, 65536);
        byte[] data = pattern(12288, 3);
        IoResult done = new IoResult();
        c.queue.write(ScriptedController.NSID, 0, 24, Unpooled.wrappedBuffer(data), false, done);
        int cid = ScriptedController.cid(c.sentOne());
        c.r2t(cid, 1, 0, 4096);
        ByteBuf first = c.sentOne();
        assertEquals(4096, first.getIntLE(first.readerIndex() + Pdu.DATA_LENGTH));
        c.r2t(cid, 2, 4096, 8192);
        ByteBuf second = c.sentOne();
        assertEquals(4096, second.getIntLE(second.readerIndex() + Pdu.DATA_OFFSET));
        assertArrayEquals(Arrays.copyOfRange(data, 4096, 12288), dataOf(second, 8192));
        c.capsuleResp(cid, Status.SUCCESS, 0);
        assertEquals(Status.SUCCESS, done.status());
    }

    @Test
    void readCompletesWithItsCapsuleRespAfterTheData() {
        ScriptedController c = controller();
        byte[] data = pattern(4096, 4);
        ByteBuf dst = Unpooled.buffer(4096);
        IoResult done = new IoResult();
        c.queue.read(ScriptedController.NSID, 8, 8, dst, done);
        ByteBuf capsule = c.sentOne();
        assertEquals(Sqe.SGL_TRANSPORT, sqeByte(capsule, Sqe.SGL_TYPE));
        assertEquals(4096, sqeInt(capsule, Sqe.SGL_LENGTH));
        int cid = ScriptedController.cid(capsule);
        c.c2hData(cid, 0, Arrays.copyOfRange(data, 0, 1024), 0);
        c.c2hData(cid, 1024, Arrays.copyOfRange(data, 1024, 4096), Pdu.FLAG_DATA_LAST);
        assertFalse(done.isDone(), "without the SUCCESS flag the CapsuleResp completes the read");
        c.capsuleResp(cid, Status.SUCCESS, 0);
        assertEquals(Status.SUCCESS, done.status());
        assertArrayEquals(data, ByteBufUtil.getBytes(dst));
    }

    @Test
    void readWithTheSuccessFlagCompletesWithoutCapsuleResp() {
        ScriptedController c = controller(OPTIONS.withSqFlowControlDisabled(true), 32, 8192, 8192);
        byte[] data = pattern(512, 5);
        ByteBuf dst = Unpooled.buffer(512);
        IoResult done = new IoResult();
        c.queue.read(ScriptedController.NSID, 0, 1, dst, done);
        c.c2hData(ScriptedController.cid(c.sentOne()), 0, data, Pdu.FLAG_DATA_LAST | Pdu.FLAG_DATA_SUCCESS);
        assertEquals(Status.SUCCESS, done.status());
        assertArrayEquals(data, ByteBufUtil.getBytes(dst));
    }

    @Test
    void outgoingPdusCarryTheNegotiatedDigests() {
        ScriptedController c = controller(OPTIONS.withDigests(true, true), 32, 8192, 8192);
        byte[] data = pattern(4096, 6);
        c.queue.write(ScriptedController.NSID, 0, 8, Unpooled.wrappedBuffer(data), false, new IoResult());
        ByteBuf capsule = c.sentOne();
        Crc32cDigest crc = new Crc32cDigest();
        assertEquals(Pdu.FLAG_HDGST | Pdu.FLAG_DDGST, Pdu.flags(capsule) & (Pdu.FLAG_HDGST | Pdu.FLAG_DDGST));
        assertTrue(crc.verify(capsule, capsule.readerIndex(), Pdu.CAPSULE_CMD_HEADER_LENGTH), "header digest");
        assertTrue(crc.verify(capsule, capsule.readerIndex() + Pdu.pdo(capsule), 4096), "data digest");
        assertArrayEquals(data, dataOf(capsule, 4096));
        c.capsuleResp(ScriptedController.cid(capsule), Status.SUCCESS, 0);
    }

    @Test
    void dataDigestMismatchFailsOnlyThatCommand() {
        ScriptedController c = controller(OPTIONS.withDigests(false, true), 32, 8192, 8192);
        IoResult intact = new IoResult();
        c.queue.read(ScriptedController.NSID, 0, 1, Unpooled.buffer(512), intact);
        int cid = ScriptedController.cid(c.sentOne());
        c.c2hData(cid, 0, pattern(512, 7), Pdu.FLAG_DATA_LAST);
        c.capsuleResp(cid, Status.SUCCESS, 0);
        assertEquals(Status.SUCCESS, intact.status(), "an intact transfer succeeds");

        IoResult bad = new IoResult();
        c.queue.read(ScriptedController.NSID, 0, 1, Unpooled.buffer(512), bad);
        int badCid = ScriptedController.cid(c.sentOne());
        c.c2hDataWithBadDigest(badCid, pattern(512, 8));
        c.capsuleResp(badCid, Status.SUCCESS, 0);
        assertEquals(Status.DATA_TRANSFER_ERROR, bad.status());

        IoResult after = new IoResult();
        c.queue.flush(ScriptedController.NSID, after);
        c.capsuleResp(ScriptedController.cid(c.sentOne()), Status.SUCCESS, 0);
        assertEquals(Status.SUCCESS, after.status(), "the connection carries on");
    }

    @Test
    void termReqFailsEveryOutstandingCommandWithTheReason() {
        ScriptedController c = controller();
        IoResult read = new IoResult();
        IoResult flush = new IoResult();
        c.queue.read(ScriptedController.NSID, 0, 1, Unpooled.buffer(512), read);
        c.queue.flush(ScriptedController.NSID, flush);
        assertEquals(2, c.sent().size());

        c.termReq(Pdu.FES_DATA_LIMIT_EXCEEDED, Pdu.DATA_LENGTH);

        for (IoResult r : List.of(read, flush)) {
            NvmeTransportException e = assertInstanceOf(NvmeTransportException.class, IoResult.failure(r));
            assertTrue(e.getMessage().contains("data transfer limit exceeded (FES 0x05, FEI 16)"), e.getMessage());
        }
        assertFalse(c.channel.isActive(), "the host closes the connection");
        assertTrue(c.queue.closed().isDone());
        IoResult late = new IoResult();
        c.queue.flush(ScriptedController.NSID, late);
        assertEquals(c.queue.failure(), IoResult.failure(late), "later commands fail with the same reason");
    }

    @Test
    void completionOfNoOutstandingCommandTerminatesTheConnection() {
        ScriptedController c = controller();
        IoResult outstanding = new IoResult();
        c.queue.flush(ScriptedController.NSID, outstanding);
        int cid = ScriptedController.cid(c.sentOne());
        c.capsuleResp(cid + 1, Status.SUCCESS, 0);
        ByteBuf term = c.sentOne();
        assertEquals(Pdu.H2C_TERM_REQ, Pdu.type(term));
        assertEquals(Pdu.FES_INVALID_HEADER_FIELD, term.getUnsignedShortLE(term.readerIndex() + Pdu.TERM_FES));
        assertEquals(20, term.getIntLE(term.readerIndex() + Pdu.TERM_FEI), "FEI: the CID field of the completion");
        assertFalse(c.channel.isActive());
        NvmeTransportException e = assertInstanceOf(NvmeTransportException.class, IoResult.failure(outstanding));
        assertTrue(e.getMessage().contains("protocol error"), e.getMessage());
    }

    @Test
    void c2hDataBeyondTheTransferTerminatesTheConnection() {
        ScriptedController c = controller();
        IoResult read = new IoResult();
        c.queue.read(ScriptedController.NSID, 0, 1, Unpooled.buffer(512), read);
        c.c2hData(ScriptedController.cid(c.sentOne()), 0, new byte[1024], Pdu.FLAG_DATA_LAST);
        ByteBuf term = c.sentOne();
        assertEquals(Pdu.H2C_TERM_REQ, Pdu.type(term));
        assertEquals(Pdu.FES_DATA_OUT_OF_RANGE, term.getUnsignedShortLE(term.readerIndex() + Pdu.TERM_FES));
        assertInstanceOf(NvmeTransportException.class, IoResult.failure(read));
    }

    @Test
    void headerDigestMismatchTerminatesTheConnection() {
        ScriptedController c = controller(OPTIONS.withDigests(true, false), 32, 8192, 8192);
        IoResult flush = new IoResult();
        c.queue.flush(ScriptedController.NSID, flush);
        int cid = ScriptedController.cid(c.sentOne());
        ByteBuf resp = Unpooled.buffer();
        resp.writeByte(Pdu.CAPSULE_RESP).writeByte(Pdu.FLAG_HDGST).writeByte(Pdu.CAPSULE_RESP_HEADER_LENGTH).writeByte(0)
                .writeIntLE(Pdu.CAPSULE_RESP_HEADER_LENGTH + Pdu.DIGEST_LENGTH).writeZero(12).writeShortLE(cid).writeShortLE(0);
        resp.writeIntLE(new Crc32cDigest().compute(resp, 0, Pdu.CAPSULE_RESP_HEADER_LENGTH) ^ 1);
        c.channel.writeInbound(resp);
        ByteBuf term = c.sentOne();
        assertEquals(Pdu.FES_HEADER_DIGEST_ERROR, term.getUnsignedShortLE(term.readerIndex() + Pdu.TERM_FES));
        assertInstanceOf(NvmeTransportException.class, IoResult.failure(flush));
    }

    @Test
    void closedConnectionFailsOutstandingCommands() {
        ScriptedController c = controller();
        IoResult read = new IoResult();
        c.queue.read(ScriptedController.NSID, 0, 1, Unpooled.buffer(512), read);
        c.sent();
        c.queue.close();
        c.channel.runPendingTasks();
        NvmeTransportException e = assertInstanceOf(NvmeTransportException.class, IoResult.failure(read));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void queueHoldsOneCommandLessThanItsSize() {
        ScriptedController c = controller(OPTIONS, 4, 8192, 8192);
        assertEquals(3, c.queue.depth());
        IoResult[] held = {new IoResult(), new IoResult(), new IoResult()};
        for (IoResult r : held) {
            c.queue.flush(ScriptedController.NSID, r);
        }
        List<ByteBuf> capsules = c.sent();
        assertEquals(3, capsules.stream().mapToInt(ScriptedController::cid).distinct().count(), "distinct CIDs");
        assertThrows(IllegalStateException.class, () -> c.queue.flush(ScriptedController.NSID, new IoResult()));
        c.capsuleResp(ScriptedController.cid(capsules.get(1)), Status.SUCCESS, 0);
        assertEquals(Status.SUCCESS, held[1].status());
        IoResult next = new IoResult();
        c.queue.flush(ScriptedController.NSID, next);
        assertEquals(ScriptedController.cid(capsules.get(1)), ScriptedController.cid(c.sentOne()), "the freed CID is reused");
        assertNotEquals(held[0], next);
    }

    @Test
    void deallocateSendsOneRangeAndReleasesIt() {
        ScriptedController c = controller();
        IoResult done = new IoResult();
        c.queue.deallocate(ScriptedController.NSID, 1000, 24, done);
        ByteBuf capsule = c.sentOne();
        assertEquals(Opcodes.IO_DATASET_MANAGEMENT, sqeByte(capsule, Sqe.OPCODE));
        assertEquals(0, sqeInt(capsule, Sqe.CDW10), "one range, zero based");
        assertEquals(1 << 2, sqeInt(capsule, Sqe.CDW11), "attribute: deallocate");
        ByteBuf range = Unpooled.wrappedBuffer(dataOf(capsule, 16));
        assertEquals(24, range.getIntLE(4));
        assertEquals(1000, range.getLongLE(8));
        c.capsuleResp(ScriptedController.cid(capsule), Status.SUCCESS, 0);
        assertEquals(Status.SUCCESS, done.status());
    }

    @Test
    void ioToANamespaceNotIdentifiedIsRefusedBeforeSending() {
        ScriptedController c = controller();
        assertThrows(IllegalArgumentException.class, () -> c.queue.read(9, 0, 1, Unpooled.buffer(512), new IoResult()));
        assertThrows(IllegalArgumentException.class,
                () -> c.queue.write(ScriptedController.NSID, 0, 2, Unpooled.buffer(512).writeZero(512), false, new IoResult()),
                "the data must be the blocks named");
        assertTrue(c.sent().isEmpty());
    }
}
