package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.pdu.Pdu;
import io.basalt.nvmetcp.pdu.PduFrameDecoder;
import io.basalt.nvmetcp.pdu.PduWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One queue of a test host talking to a {@link TargetQueue} on an embedded channel: it encodes
 * PDUs with the real {@link PduWriter} and reframes what the target sends with the real decoder.
 */
final class EmbeddedHost implements AutoCloseable {
    static final String HOST_NQN = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
    static final UUID HOST_ID = UUID.fromString("11111111-2222-3333-4444-555555555555");

    final EmbeddedChannel target;
    private final EmbeddedChannel wire = new EmbeddedChannel();
    private final EmbeddedChannel responses = new EmbeddedChannel(new PduFrameDecoder(1 << 21));
    final PduWriter writer = new PduWriter();
    private final List<ByteBuf> held = new ArrayList<>();
    private int nextCid = 1;
    private boolean closed;

    EmbeddedHost(NvmeTarget nvmeTarget, ByteBufAllocator alloc) {
        this(nvmeTarget, alloc, false);
    }

    /** @param discoveryOnly as if connected to a discovery-only port */
    EmbeddedHost(NvmeTarget nvmeTarget, ByteBufAllocator alloc, boolean discoveryOnly) {
        target = new EmbeddedChannel();
        target.config().setAllocator(alloc);
        target.pipeline().addLast(new PduFrameDecoder(TargetQueue.maxPduLength(nvmeTarget.options())),
                new TargetQueue(nvmeTarget, discoveryOnly, new PortAnaStates()));
        target.pipeline().fireChannelActive();
    }

    /** Sends raw bytes to the target and returns the PDUs it answered with. */
    List<ByteBuf> send(ByteBuf bytes) {
        target.writeInbound(bytes);
        target.runPendingTasks();
        return received();
    }

    /** Buffers holding bytes that the target wrote to the channel in the last {@link #received()}. */
    int buffersLastWritten;

    List<ByteBuf> received() {
        buffersLastWritten = 0;
        ByteBuf out;
        while ((out = target.readOutbound()) != null) {
            if (out.isReadable()) {
                buffersLastWritten++;
            }
            responses.writeInbound(out);
        }
        List<ByteBuf> frames = new ArrayList<>();
        ByteBuf frame;
        while ((frame = responses.readInbound()) != null) {
            frames.add(frame);
        }
        held.addAll(frames);
        return frames;
    }

    private List<ByteBuf> sendWritten() {
        wire.flush();
        ByteBuf all = Unpooled.buffer();
        ByteBuf part;
        while ((part = wire.readOutbound()) != null) {
            all.writeBytes(part);
            part.release();
        }
        return send(all);
    }

    ByteBuf initialize(boolean headerDigest, boolean dataDigest) {
        List<ByteBuf> frames = send(PduWriter.icReq(Unpooled.buffer().alloc(), 0, headerDigest, dataDigest, 0));
        writer.negotiated(headerDigest, dataDigest, 0);
        return frames.get(0);
    }

    static ByteBuf sqe(int opcode) {
        ByteBuf sqe = Unpooled.buffer(Sqe.SIZE);
        sqe.writeZero(Sqe.SIZE);
        sqe.setByte(Sqe.OPCODE, opcode);
        return sqe;
    }

    /** Sends a command (consuming the SQE; in-capsule data if {@code data} is given) and returns the answer. */
    List<ByteBuf> command(ByteBuf sqe, ByteBuf data) {
        sqe.setShortLE(Sqe.CID, nextCid++);
        return commandAsIs(sqe, data);
    }

    /** Like {@link #command}, but with the CID already in {@code sqe}, even one in use. */
    List<ByteBuf> commandAsIs(ByteBuf sqe, ByteBuf data) {
        writeCommand(sqe, data);
        return sendWritten();
    }

    /** Puts a command capsule (consuming the SQE and its in-capsule data, if any) on the wire, unsent. */
    private void writeCommand(ByteBuf sqe, ByteBuf data) {
        if (data != null) {
            sqe.setByte(Sqe.SGL_TYPE, Sqe.SGL_INCAPSULE);
            sqe.setIntLE(Sqe.SGL_LENGTH, data.readableBytes());
        }
        writer.writeCapsuleCmd(wire, sqe, 0, data);
        sqe.release();
    }

    /**
     * Sends several commands (consuming the SQEs, each with the in-capsule data at the same index of
     * {@code data} unless it is null there) in one stream write, as a host that pipelines them does,
     * and returns everything the target answered.
     */
    List<ByteBuf> commandsTogether(List<ByteBuf> sqes, List<ByteBuf> data) {
        for (int i = 0; i < sqes.size(); i++) {
            sqes.get(i).setShortLE(Sqe.CID, nextCid++);
            writeCommand(sqes.get(i), data.get(i));
        }
        return sendWritten();
    }

    List<ByteBuf> h2cData(int cid, int ttag, int offset, ByteBuf data, boolean last) {
        writer.writeData(wire, Pdu.H2C_DATA, last ? Pdu.FLAG_DATA_LAST : 0, cid, ttag, offset, data);
        return sendWritten();
    }

    int lastCid() {
        return nextCid - 1;
    }

    static ByteBuf connectData(String subnqn, String hostNqn, int cntlid) {
        ByteBuf data = Unpooled.buffer(1024);
        data.writeZero(1024);
        data.setLong(0, HOST_ID.getMostSignificantBits());
        data.setLong(8, HOST_ID.getLeastSignificantBits());
        data.setShortLE(16, cntlid);
        data.setBytes(256, subnqn.getBytes(StandardCharsets.UTF_8));
        data.setBytes(512, hostNqn.getBytes(StandardCharsets.UTF_8));
        return data;
    }

    static ByteBuf connect(int qid, int queueSize, int kato) {
        ByteBuf sqe = sqe(Opcodes.FABRICS);
        sqe.setByte(Sqe.FCTYPE, Opcodes.FCTYPE_CONNECT);
        sqe.setShortLE(Sqe.CDW10 + 2, qid);
        sqe.setShortLE(Sqe.CDW11, queueSize - 1);
        sqe.setIntLE(Sqe.CDW12, kato);
        return sqe;
    }

    static ByteBuf propertySet(int offset, long value) {
        ByteBuf sqe = sqe(Opcodes.FABRICS);
        sqe.setByte(Sqe.FCTYPE, Opcodes.FCTYPE_PROPERTY_SET);
        sqe.setIntLE(Sqe.CDW11, offset);
        sqe.setLongLE(Sqe.CDW12, value);
        return sqe;
    }

    /** A command whose data the controller sends (identify, log page, read). */
    static ByteBuf withTransfer(ByteBuf sqe, int length) {
        sqe.setByte(Sqe.SGL_TYPE, Sqe.SGL_TRANSPORT);
        sqe.setIntLE(Sqe.SGL_LENGTH, length);
        return sqe;
    }

    /** Completion fields of a CapsuleResp frame. */
    record Completion(int dw0, int dw1, int sqid, int cid, int status) {
        static Completion of(ByteBuf frame) {
            if (Pdu.type(frame) != Pdu.CAPSULE_RESP) {
                throw new AssertionError("expected CapsuleResp, got " + Pdu.name(Pdu.type(frame)));
            }
            int ri = frame.readerIndex();
            return new Completion(frame.getIntLE(ri + 8), frame.getIntLE(ri + 12), frame.getUnsignedShortLE(ri + 18),
                    frame.getUnsignedShortLE(ri + 20), frame.getUnsignedShortLE(ri + 22) >> 1);
        }
    }

    /** Closes the connection and releases what the host holds; closing again does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        target.close();
        target.runPendingTasks();
        received();
        held.forEach(ByteBuf::release);
        wire.finishAndReleaseAll();
        responses.finishAndReleaseAll();
    }
}
