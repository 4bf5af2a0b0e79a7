package io.basalt.nvmetcp.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PduFrameDecoderTest {

    private static ByteBuf header(int type, int hlen, int pdo, int plen) {
        ByteBuf buf = Unpooled.buffer(Math.max(plen, 8));
        buf.writeByte(type).writeByte(0).writeByte(hlen).writeByte(pdo).writeIntLE(plen);
        buf.writeZero(Math.max(0, plen - 8));
        return buf;
    }

    @Test
    void reassemblesAPduSplitAcrossReads() {
        EmbeddedChannel ch = new EmbeddedChannel(new PduFrameDecoder(4096));
        ByteBuf pdu = header(Pdu.CAPSULE_CMD, 72, 0, 72);
        ch.writeInbound(pdu.readRetainedSlice(5));
        assertNull(ch.readInbound());
        ch.writeInbound(pdu.readRetainedSlice(40));
        assertNull(ch.readInbound());
        ch.writeInbound(pdu.readRetainedSlice(27));
        ByteBuf frame = ch.readInbound();
        assertEquals(72, frame.readableBytes());
        assertEquals(Pdu.CAPSULE_CMD, Pdu.type(frame));
        frame.release();
        pdu.release();
    }

    @Test
    void splitsTwoPdusInOneRead() {
        EmbeddedChannel ch = new EmbeddedChannel(new PduFrameDecoder(4096));
        ByteBuf both = Unpooled.wrappedBuffer(header(Pdu.CAPSULE_CMD, 72, 0, 72), header(Pdu.H2C_DATA, 24, 24, 40));
        ch.writeInbound(both);
        ByteBuf first = ch.readInbound();
        ByteBuf second = ch.readInbound();
        assertEquals(72, first.readableBytes());
        assertEquals(Pdu.H2C_DATA, Pdu.type(second));
        assertEquals(40, second.readableBytes());
        first.release();
        second.release();
    }

    /**
     * A PDU that comes in reads of at least LARGE bytes is handed on as a slice of those reads,
     * not a copy: a byte changed in a read afterwards shows in the frame. With Netty's merge cumulator
     * (the decoder before gathering) this fails: the frame is a copy.
     */
    @Test
    void largePduIsASliceOfItsReadsNotACopy() {
        int plen = 24 + 3 * PduFrameDecoder.LARGE;
        EmbeddedChannel ch = new EmbeddedChannel(new PduFrameDecoder(plen));
        ByteBuf wire = header(Pdu.H2C_DATA, 24, 24, plen);
        ByteBuf first = wire.readRetainedSlice(PduFrameDecoder.LARGE);
        ByteBuf second = wire.readRetainedSlice(PduFrameDecoder.LARGE);
        ByteBuf rest = wire.readRetainedSlice(wire.readableBytes());
        ch.writeInbound(first);
        ch.writeInbound(second);
        ch.writeInbound(rest);
        ByteBuf frame = ch.readInbound();
        assertEquals(plen, frame.readableBytes());
        int inSecond = PduFrameDecoder.LARGE + 100;
        int inRest = 2 * PduFrameDecoder.LARGE + 100;
        wire.setByte(inSecond, 0x5A);
        wire.setByte(inRest, 0xA5);
        assertEquals(0x5A, frame.getUnsignedByte(frame.readerIndex() + inSecond), "the second read was copied");
        assertEquals(0xA5, frame.getUnsignedByte(frame.readerIndex() + inRest), "the last read was copied");
        frame.release();
        wire.release();
        assertFalse(ch.finish());
    }

    /**
     * Small PDUs pipelined in large reads are merged as before, never gathered into a composite (which
     * costs objects per read and slower header reads): fails if every large read is gathered.
     */
    @Test
    void smallPdusInLargeReadsAreNotGathered() {
        int plen = 24 + 4096;
        int count = 3 * PduFrameDecoder.LARGE / plen + 2;
        EmbeddedChannel ch = new EmbeddedChannel(new PduFrameDecoder(plen));
        ByteBuf wire = Unpooled.buffer();
        for (int i = 0; i < count; i++) {
            wire.writeBytes(header(Pdu.H2C_DATA, 24, 24, plen));
        }
        ch.writeInbound(wire.readRetainedSlice(100)); // leaves part of the first PDU undecoded
        ch.writeInbound(wire.readRetainedSlice(wire.readableBytes()));
        for (int i = 0; i < count; i++) {
            ByteBuf frame = ch.readInbound();
            assertEquals(plen, frame.readableBytes());
            assertFalse(frame.unwrap() instanceof CompositeByteBuf, "PDU " + i + " was gathered");
            frame.release();
        }
        wire.release();
        assertFalse(ch.finish());
    }

    private static PduException rejected(ByteBuf input, int maxPdu) {
        EmbeddedChannel ch = new EmbeddedChannel(new PduFrameDecoder(maxPdu));
        DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(input));
        return assertInstanceOf(PduException.class, e.getCause());
    }

    @Test
    void rejectsUnknownType() {
        PduException e = rejected(header(0x0F, 24, 0, 24), 4096);
        assertEquals(Pdu.FES_INVALID_HEADER_FIELD, e.fes());
        assertEquals(Pdu.TYPE, e.fei());
    }

    @Test
    void rejectsWrongHeaderLength() {
        PduException e = rejected(header(Pdu.CAPSULE_CMD, 64, 0, 72), 4096);
        assertEquals(Pdu.HLEN, e.fei());
    }

    @Test
    void rejectsPduLongerThanTheLimit() {
        ByteBuf small = Unpooled.buffer(8).writeByte(Pdu.H2C_DATA).writeByte(0).writeByte(24).writeByte(24).writeIntLE(1 << 20);
        PduException e = rejected(small, 4096);
        assertEquals(Pdu.PLEN, e.fei());
    }

    @Test
    void rejectsPduShorterThanItsHeader() {
        ByteBuf small = Unpooled.buffer(8).writeByte(Pdu.CAPSULE_CMD).writeByte(0).writeByte(72).writeByte(0).writeIntLE(16);
        assertEquals(Pdu.PLEN, rejected(small, 4096).fei());
    }

    @Test
    void rejectsDataOffsetOutsideThePdu() {
        assertEquals(Pdu.PDO, rejected(header(Pdu.H2C_DATA, 24, 200, 40), 4096).fei());
        assertEquals(Pdu.PDO, rejected(header(Pdu.H2C_DATA, 24, 8, 40), 4096).fei());
    }

    @Test
    void crc32cMatchesTheStandardCheckValue() {
        ByteBuf buf = Unpooled.copiedBuffer("123456789", java.nio.charset.StandardCharsets.US_ASCII);
        assertEquals(0xE3069283, new Crc32cDigest().compute(buf, 0, 9));
        ByteBuf composite = Unpooled.wrappedBuffer(Unpooled.copiedBuffer("1234", java.nio.charset.StandardCharsets.US_ASCII),
                Unpooled.copiedBuffer("56789", java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(0xE3069283, new Crc32cDigest().compute(composite, 0, 9));
    }
}
