package io.basalt.service.volume;

import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.basalt.service.volume.DeviceCalls.bytes;
import static io.basalt.service.volume.DeviceCalls.deallocate;
import static io.basalt.service.volume.DeviceCalls.flush;
import static io.basalt.service.volume.DeviceCalls.pattern;
import static io.basalt.service.volume.DeviceCalls.read;
import static io.basalt.service.volume.DeviceCalls.write;
import static io.basalt.service.volume.DeviceCalls.writeZeroes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MemoryBlockDeviceTest {
    private static final int BLOCK = 4096;
    /** 1 MiB chunks hold 256 blocks; 1000 blocks span four chunks. */
    private final MemoryBlockDevice device = new MemoryBlockDevice(BLOCK, 1000);

    @AfterEach
    void free() {
        device.close();
    }

    @Test
    void writesAcrossChunksReadBack() throws Exception {
        byte[] data = pattern(10 * BLOCK, 1);
        assertEquals(Status.SUCCESS, write(device, 250, 10, Unpooled.wrappedBuffer(data), true));
        ByteBuf dst = Unpooled.buffer();
        assertEquals(Status.SUCCESS, read(device, 250, 10, dst));
        assertArrayEquals(data, bytes(dst));
        assertEquals(Status.SUCCESS, flush(device));
    }

    @Test
    void readAppendsAtTheWriterIndex() throws Exception {
        byte[] data = pattern(BLOCK, 2);
        write(device, 0, 1, Unpooled.wrappedBuffer(data), false);
        ByteBuf dst = Unpooled.buffer().writeBytes(new byte[]{9, 9});
        assertEquals(Status.SUCCESS, read(device, 0, 1, dst));
        assertEquals(2 + BLOCK, dst.writerIndex());
        byte[] appended = new byte[BLOCK];
        dst.getBytes(2, appended);
        assertArrayEquals(data, appended);
    }

    @Test
    void unwrittenBlocksReadAsZerosEvenBesideWrittenOnes() throws Exception {
        write(device, 1, 1, Unpooled.wrappedBuffer(pattern(BLOCK, 3)), false);
        ByteBuf dst = Unpooled.buffer();
        read(device, 0, 1, dst);
        read(device, 999, 1, dst);
        assertArrayEquals(new byte[2 * BLOCK], bytes(dst));
    }

    @Test
    void writeZeroesAndDeallocateLeaveZeros() throws Exception {
        write(device, 200, 100, Unpooled.wrappedBuffer(pattern(100 * BLOCK, 4)), false);
        assertEquals(Status.SUCCESS, writeZeroes(device, 200, 60));
        assertEquals(Status.SUCCESS, deallocate(device, 260, 40));
        ByteBuf dst = Unpooled.buffer();
        read(device, 200, 100, dst);
        assertArrayEquals(new byte[100 * BLOCK], bytes(dst));
    }

    @Test
    void rangesBeyondTheEndAreRefused() throws Exception {
        assertEquals(Status.LBA_OUT_OF_RANGE, read(device, 1000, 1, Unpooled.buffer()));
        assertEquals(Status.LBA_OUT_OF_RANGE, write(device, 999, 2, Unpooled.buffer(), false));
        assertEquals(Status.LBA_OUT_OF_RANGE, writeZeroes(device, -1, 1));
    }

    @Test
    void badGeometryIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new MemoryBlockDevice(1024, 10));
        assertThrows(IllegalArgumentException.class, () -> new MemoryBlockDevice(512, 0));
    }
}
