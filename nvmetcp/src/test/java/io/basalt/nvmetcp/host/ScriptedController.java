package io.basalt.nvmetcp.host;

import io.basalt.nvmetcp.pdu.Pdu;
import io.basalt.nvmetcp.pdu.PduFrameDecoder;
import io.basalt.nvmetcp.pdu.PduWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link HostQueue} on an embedded channel, with the test playing the controller: it reads the PDUs
 * the host sends (reframed by the real decoder) and answers with PDUs encoded by the real
 * {@link PduWriter}, so each protocol case can be scripted exactly, including wrong ones.
 */
final class ScriptedController implements AutoCloseable {
    static final String HOST_NQN = "nqn.2014-08.org.nvmexpress:uuid:0badcafe-0000-4000-8000-000000000001";
    static final int NSID = 1;

    final HostQueue queue;
    final EmbeddedChannel channel = new EmbeddedChannel();
    /** The controller's side of the encoding (digests as negotiated). */
    final PduWriter writer = new PduWriter();
    private final EmbeddedChannel wire = new EmbeddedChannel();
    private final EmbeddedChannel framer = new EmbeddedChannel(new PduFrameDecoder(HostQueue.MAX_TRANSFER + 256));
    private final List<ByteBuf> held = new ArrayList<>();

    ScriptedController(HostOptions options, int queueSize, int inCapsuleLimit, ByteBufAllocator alloc) {
        NamespaceFormats formats = new NamespaceFormats();
        formats.record(NSID, 512);
        queue = new HostQueue(options, 1, queueSize, inCapsuleLimit, formats);
        channel.config().setAllocator(alloc);
        channel.pipeline().addLast(new PduFrameDecoder(HostQueue.MAX_TRANSFER + 256), queue);
        channel.pipeline().fireChannelActive();
    }

    /** The PDUs the host has sent since the last call. */
    List<ByteBuf> sent() {
        channel.runPendingTasks();
        ByteBuf out;
        while ((out = channel.readOutbound()) != null) {
            framer.writeInbound(out);
        }
        List<ByteBuf> frames = new ArrayList<>();
        ByteBuf frame;
        while ((frame = framer.readInbound()) != null) {
            frames.add(frame);
        }
        held.addAll(frames);
        return frames;
    }

    ByteBuf sentOne() {
        List<ByteBuf> frames = sent();
        if (frames.size() != 1) {
            throw new AssertionError("expected one PDU from the host, got " + frames.size());
        }
        return frames.get(0);
    }

    /** Delivers what the controller side has written to the host. */
    void deliver() {
        wire.flush();
        ByteBuf part;
        while ((part = wire.readOutbound()) != null) {
            channel.writeInbound(part);
        }
        channel.runPendingTasks();
    }

    /** Consumes the ICReq and answers with an ICResp granting the digests asked for. */
    ByteBuf initialize(int maxH2CData) {
        ByteBuf icReq = sentOne();
        int ri = icReq.readerIndex();
        boolean headerDigest = (icReq.getUnsignedByte(ri + Pdu.IC_DIGEST) & Pdu.IC_DIGEST_HEADER) != 0;
        boolean dataDigest = (icReq.getUnsignedByte(ri + Pdu.IC_DIGEST) & Pdu.IC_DIGEST_DATA) != 0;
        channel.writeInbound(PduWriter.icResp(Unpooled.buffer().alloc(), 0, headerDigest, dataDigest, maxH2CData));
        writer.negotiated(headerDigest, dataDigest, 0);
        return icReq;
    }

    void capsuleResp(int cid, int status, long result) {
        writer.writeCapsuleResp(wire, (int) result, (int) (result >>> 32), 0, 1, cid, status);
        deliver();
    }

    void c2hData(int cid, int offset, byte[] data, int flags) {
        writer.writeData(wire, Pdu.C2H_DATA, flags, cid, 0, offset, Unpooled.wrappedBuffer(data));
        deliver();
    }

    /** A whole-transfer C2HData PDU whose data digest does not match its data. */
    void c2hDataWithBadDigest(int cid, byte[] data) {
        writer.writeData(wire, Pdu.C2H_DATA, Pdu.FLAG_DATA_LAST, cid, 0, 0, Unpooled.wrappedBuffer(data));
        wire.flush();
        List<ByteBuf> parts = new ArrayList<>();
        ByteBuf part;
        while ((part = wire.readOutbound()) != null) {
            parts.add(part);
        }
        ByteBuf digest = parts.get(parts.size() - 1);
        digest.setByte(0, digest.getByte(0) ^ 1);
        parts.forEach(channel::writeInbound);
        channel.runPendingTasks();
    }

    void r2t(int cid, int ttag, int offset, int length) {
        writer.writeR2T(wire, cid, ttag, offset, length);
        deliver();
    }

    void termReq(int fes, int fei) {
        channel.writeInbound(PduWriter.termReq(Unpooled.buffer().alloc(), Pdu.C2H_TERM_REQ, fes, fei, null));
        channel.runPendingTasks();
    }

    static int cid(ByteBuf capsule) {
        return capsule.getUnsignedShortLE(capsule.readerIndex() + Pdu.COMMON_HEADER_LENGTH + 2);
    }

    @Override
    public void close() {
        channel.close();
        channel.runPendingTasks();
        sent();
        held.forEach(ByteBuf::release);
        channel.finishAndReleaseAll();
        wire.finishAndReleaseAll();
        framer.finishAndReleaseAll();
    }
}
