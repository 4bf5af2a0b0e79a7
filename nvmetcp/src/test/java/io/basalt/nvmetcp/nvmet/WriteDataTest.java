package io.basalt.nvmetcp.nvmet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WriteDataTest {
    private static final int LARGE = WriteData.SLICE_MIN;
    private final UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(true);
    private final WriteData gathered = new WriteData();

    @AfterEach
    void nothingHeld() {
        assertEquals(0, alloc.metric().usedDirectMemory(), "direct memory still held");
    }

    /** A PDU as the frame decoder hands it on: 24 header bytes, then the payload. */
    private ByteBuf pdu(byte[] data, int from, int length) {
        ByteBuf pdu = alloc.directBuffer(24 + length);
        pdu.writeZero(24).writeBytes(data, from, length);
        return pdu;
    }

    /** Adds data[from, from + length) as one H2CData payload, releasing the PDU as the target does. */
    private ByteBuf add(byte[] data, int from, int length) {
        ByteBuf pdu = pdu(data, from, length);
        gathered.add(alloc, pdu, 24, length, data.length);
        return pdu;
    }

    /**
     * A large payload goes to the device as a slice of its PDU: a byte changed in the PDU shows in the
     * data. Fails if every payload is copied (as the target did before, into one buffer per write).
     */
    @Test
    void aLargePayloadIsNotCopied() {
        byte[] data = new byte[2 * LARGE];
        new Random(1).nextBytes(data);
        ByteBuf first = add(data, 0, LARGE);
        ByteBuf second = add(data, LARGE, LARGE);
        ByteBuf out = gathered.take(alloc, data.length);
        assertArrayEquals(data, ByteBufUtil.getBytes(out));
        first.setByte(24 + 7, data[7] ^ 0xFF);
        second.setByte(24 + 9, data[LARGE + 9] ^ 0xFF);
        assertEquals((byte) (data[7] ^ 0xFF), out.getByte(out.readerIndex() + 7), "the first payload was copied");
        assertEquals((byte) (data[LARGE + 9] ^ 0xFF), out.getByte(out.readerIndex() + LARGE + 9), "the second payload was copied");
        first.release();
        second.release();
        out.release();
    }

    @Test
    void smallAndLargePayloadsGatherInOrder() {
        byte[] data = new byte[3 * LARGE + 3 * 4096 + 512];
        new Random(2).nextBytes(data);
        int[] pieces = {4096, 512, LARGE, 4096, 2 * LARGE, 4096};
        int at = 0;
        for (int piece : pieces) {
            add(data, at, piece).release();
            at += piece;
        }
        assertEquals(data.length, at);
        ByteBuf out = gathered.take(alloc, data.length);
        assertArrayEquals(data, ByteBufUtil.getBytes(out));
        // [copied 4096 + 512], [LARGE], [copied 4096], [2 LARGE], [copied 4096]
        assertEquals(5, assertInstanceOf(CompositeByteBuf.class, out).numComponents());
        out.release();
    }

    /** A host that cuts its data in tiny pieces gets them copied into one buffer, not one part each. */
    @Test
    void tinyPayloadsMakeOnePart() {
        byte[] data = new byte[LARGE];
        new Random(3).nextBytes(data);
        for (int at = 0; at < data.length; at += 4) {
            add(data, at, 4).release();
        }
        ByteBuf out = gathered.take(alloc, data.length);
        assertFalse(out instanceof CompositeByteBuf);
        assertArrayEquals(data, ByteBufUtil.getBytes(out));
        out.release();
    }

    /** A connection closed with the data half received: release frees the parts and the copies. */
    @Test
    void releaseFreesAPartialTransfer() {
        byte[] data = new byte[4 * LARGE];
        Arrays.fill(data, (byte) 1);
        add(data, 0, 4096).release();
        add(data, 4096, LARGE).release();
        add(data, 4096 + LARGE, 4096).release();
        assertTrue(alloc.metric().usedDirectMemory() > 0);
        gathered.release();
        // the allocator's metric checked in nothingHeld
        ByteBuf again = add(data, 0, LARGE);
        again.release();
        gathered.take(alloc, data.length).release();
    }
}
