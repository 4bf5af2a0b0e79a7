package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryBlockDeviceTest {
    private static final int BLOCK = 4096;
    /** 1 MiB chunks hold 256 blocks; 1000 blocks span four chunks. */
    private final MemoryBlockDevice device = new MemoryBlockDevice(BLOCK, 1000);

    @Test
    void writesAcrossChunksReadBack() {
        byte[] data = pattern(10 * BLOCK, 1);
        assertEquals(Status.SUCCESS, write(250, 10, Unpooled.wrappedBuffer(data), true));
        ByteBuf dst = Unpooled.buffer();
        assertEquals(Status.SUCCESS, read(250, 10, dst));
        assertArrayEquals(data, bytes(dst));
        assertEquals(Status.SUCCESS, status(device::flush));
    }

    @Test
    void readAppendsAtTheWriterIndex() {
        byte[] data = pattern(BLOCK, 2);
        write(0, 1, Unpooled.wrappedBuffer(data), false);
        ByteBuf dst = Unpooled.buffer().writeBytes(new byte[]{9, 9});
        assertEquals(Status.SUCCESS, read(0, 1, dst));
        assertEquals(2 + BLOCK, dst.writerIndex());
        byte[] appended = new byte[BLOCK];
        dst.getBytes(2, appended);
        assertArrayEquals(data, appended);
    }

    @Test
    void unwrittenBlocksReadAsZerosEvenBesideWrittenOnes() {
        write(1, 1, Unpooled.wrappedBuffer(pattern(BLOCK, 3)), false);
        ByteBuf dst = Unpooled.buffer();
        read(0, 1, dst);
        read(999, 1, dst);
        assertArrayEquals(new byte[2 * BLOCK], bytes(dst));
    }

    @Test
    void writeZeroesAndDeallocateLeaveZeros() {
        write(200, 100, Unpooled.wrappedBuffer(pattern(100 * BLOCK, 4)), false);
        assertEquals(Status.SUCCESS, writeZeroes(200, 60));
        assertEquals(Status.SUCCESS, deallocate(260, 40));
        ByteBuf dst = Unpooled.buffer();
        read(200, 100, dst);
        assertArrayEquals(new byte[100 * BLOCK], bytes(dst));
    }

    @Test
    void rangesBeyondTheEndAreRefused() {
        assertEquals(Status.LBA_OUT_OF_RANGE, read(1000, 1, Unpooled.buffer()));
        assertEquals(Status.LBA_OUT_OF_RANGE, write(999, 2, Unpooled.buffer(), false));
        assertEquals(Status.LBA_OUT_OF_RANGE, writeZeroes(-1, 1));
    }

    @Test
    void badGeometryIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new MemoryBlockDevice(1024, 10));
        assertThrows(IllegalArgumentException.class, () -> new MemoryBlockDevice(512, 0));
    }

    /** The status of an operation, which the device completes once, on the calling thread. */
    private static int status(Consumer<IoCallback> operation) {
        int[] statuses = {-1};
        operation.accept(status -> {
            assertEquals(-1, statuses[0], "completed twice");
            statuses[0] = status;
        });
        assertTrue(statuses[0] >= 0, "completed on the calling thread");
        return statuses[0];
    }

    private int read(long lba, int blocks, ByteBuf dst) {
        return status(cb -> device.read(lba, blocks, dst, cb));
    }

    private int write(long lba, int blocks, ByteBuf src, boolean fua) {
        return status(cb -> device.write(lba, blocks, src, fua, cb));
    }

    private int writeZeroes(long lba, int blocks) {
        return status(cb -> device.writeZeroes(lba, blocks, cb));
    }

    private int deallocate(long lba, int blocks) {
        return status(cb -> device.deallocate(lba, blocks, cb));
    }

    private static byte[] pattern(int length, int seed) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            data[i] = (byte) (i * 31 + seed);
        }
        return data;
    }

    private static byte[] bytes(ByteBuf buf) {
        return ByteBufUtil.getBytes(buf);
    }
}
