package io.basalt.service.volume;

import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static io.basalt.service.volume.DeviceCalls.call;
import static io.basalt.service.volume.DeviceCalls.bytes;
import static io.basalt.service.volume.DeviceCalls.deallocate;
import static io.basalt.service.volume.DeviceCalls.flush;
import static io.basalt.service.volume.DeviceCalls.pattern;
import static io.basalt.service.volume.DeviceCalls.read;
import static io.basalt.service.volume.DeviceCalls.write;
import static io.basalt.service.volume.DeviceCalls.writeZeroes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileBlockDeviceTest {
    private static final int BLOCK = 512;
    private static final long BLOCKS = 4096; // 2 MiB: more than one zeroing chunk

    @TempDir
    Path dir;
    private ExecutorService io;
    private Path image;
    private FileBlockDevice device;

    @BeforeEach
    void open() throws IOException {
        io = Executors.newFixedThreadPool(2);
        image = dir.resolve("v.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(BLOCKS * BLOCK);
        }
        device = FileBlockDevice.open(image, BLOCK, io);
    }

    @AfterEach
    void close() throws IOException {
        device.close();
        io.shutdown();
    }

    @Test
    void geometryComesFromTheFile() {
        assertEquals(BLOCK, device.blockSize());
        assertEquals(BLOCKS, device.blockCount());
    }

    @Test
    void writtenBlocksReadBackAndReachTheFile() throws Exception {
        byte[] data = pattern(3 * BLOCK, 7);
        assertEquals(Status.SUCCESS, write(device, 10, 3, Unpooled.wrappedBuffer(data), false));
        ByteBuf dst = Unpooled.buffer();
        assertEquals(Status.SUCCESS, read(device, 10, 3, dst));
        assertArrayEquals(data, bytes(dst));
        assertEquals(Status.SUCCESS, flush(device));
        assertArrayEquals(data, Arrays.copyOfRange(Files.readAllBytes(image), 10 * BLOCK, 13 * BLOCK));
    }

    @Test
    void writeTakesTheReadableBytesAndLeavesTheSourceAlone() throws Exception {
        byte[] data = pattern(BLOCK, 3);
        ByteBuf src = Unpooled.buffer().writeBytes(new byte[100]).writeBytes(data);
        src.readerIndex(100);
        assertEquals(Status.SUCCESS, write(device, 0, 1, src, true));
        assertEquals(100, src.readerIndex());
        ByteBuf dst = Unpooled.buffer();
        read(device, 0, 1, dst);
        assertArrayEquals(data, bytes(dst));
    }

    @Test
    void readAppendsAtTheWriterIndex() throws Exception {
        byte[] data = pattern(2 * BLOCK, 11);
        write(device, 5, 2, Unpooled.wrappedBuffer(data), false);
        ByteBuf dst = Unpooled.directBuffer(64).writeBytes(new byte[]{1, 2, 3});
        dst.readerIndex(1);

        assertEquals(Status.SUCCESS, read(device, 5, 2, dst));

        assertEquals(1, dst.readerIndex());
        assertEquals(3 + 2 * BLOCK, dst.writerIndex());
        assertEquals(2, dst.getByte(1));
        assertEquals(3, dst.getByte(2));
        byte[] appended = new byte[2 * BLOCK];
        dst.getBytes(3, appended);
        assertArrayEquals(data, appended);
    }

    @Test
    void neverWrittenBlocksReadAsZeros() throws Exception {
        ByteBuf dst = Unpooled.buffer();
        assertEquals(Status.SUCCESS, read(device, BLOCKS - 8, 8, dst));
        assertArrayEquals(new byte[8 * BLOCK], bytes(dst));
    }

    @Test
    void fileWorkRunsOffTheCallersThread() throws Exception {
        var completion = call(cb -> device.flush(cb));
        assertNotSame(Thread.currentThread(), completion.thread());
        completion = call(cb -> device.read(0, 1, Unpooled.buffer(), cb));
        assertNotSame(Thread.currentThread(), completion.thread());
    }

    @Test
    void writeZeroesAndDeallocateLeaveZeros() throws Exception {
        int blocks = 1500; // spans zeroing chunks, ends inside one
        write(device, 100, blocks, Unpooled.wrappedBuffer(pattern(blocks * BLOCK, 5)), false);
        write(device, 2000, blocks, Unpooled.wrappedBuffer(pattern(blocks * BLOCK, 9)), false);
        assertEquals(Status.SUCCESS, writeZeroes(device, 101, blocks - 2));
        assertEquals(Status.SUCCESS, deallocate(device, 2000, blocks));

        ByteBuf dst = Unpooled.buffer();
        read(device, 100, blocks, dst);
        byte[] expected = spliceZeros(pattern(blocks * BLOCK, 5), BLOCK, (blocks - 1) * BLOCK);
        assertArrayEquals(expected, bytes(dst), "only the middle blocks were zeroed");

        dst.clear();
        read(device, 2000, blocks, dst);
        assertArrayEquals(new byte[blocks * BLOCK], bytes(dst));
    }

    @Test
    void zeroingNeverWrittenBlocksKeepsTheImageSparse() throws Exception {
        long before = allocatedBytes(image);
        assertEquals(Status.SUCCESS, deallocate(device, 0, (int) BLOCKS));
        assertEquals(Status.SUCCESS, writeZeroes(device, 0, (int) BLOCKS));
        assertEquals(Status.SUCCESS, flush(device));
        assertEquals(before, allocatedBytes(image));
    }

    @Test
    void rangesBeyondTheEndAreRefused() throws Exception {
        assertEquals(Status.LBA_OUT_OF_RANGE, read(device, BLOCKS, 1, Unpooled.buffer()));
        assertEquals(Status.LBA_OUT_OF_RANGE, read(device, BLOCKS - 1, 2, Unpooled.buffer()));
        assertEquals(Status.LBA_OUT_OF_RANGE, write(device, -1, 1, Unpooled.buffer(BLOCK).writeZero(BLOCK), false));
        assertEquals(Status.LBA_OUT_OF_RANGE, writeZeroes(device, Long.MAX_VALUE, 1));
        assertEquals(Status.LBA_OUT_OF_RANGE, deallocate(device, 0, (int) BLOCKS + 1));
        assertEquals(BLOCKS * BLOCK, Files.size(image), "nothing was written past the end");
    }

    @Test
    void failuresOnAClosedChannelCompleteWithMediaErrors() throws Exception {
        device.close();
        ByteBuf dst = Unpooled.buffer();
        assertEquals(Status.UNRECOVERED_READ_ERROR, read(device, 0, 1, dst));
        assertEquals(0, dst.writerIndex(), "a failed read appends nothing");
        assertEquals(Status.WRITE_FAULT, write(device, 0, 1, Unpooled.buffer(BLOCK).writeZero(BLOCK), false));
        assertEquals(Status.WRITE_FAULT, write(device, 0, 1, Unpooled.buffer(BLOCK).writeZero(BLOCK), true));
        assertEquals(Status.WRITE_FAULT, flush(device));
        assertEquals(Status.WRITE_FAULT, writeZeroes(device, 0, 1));
        assertEquals(Status.WRITE_FAULT, deallocate(device, 0, 1));
    }

    @Test
    void aShortSourceBufferIsAWriteFaultNotALostCompletion() throws Exception {
        assertEquals(Status.WRITE_FAULT, write(device, 0, 2, Unpooled.buffer(BLOCK).writeZero(BLOCK), false));
    }

    @Test
    void aStoppedExecutorFailsTheCommandInsteadOfDroppingIt() throws Exception {
        io.shutdown();
        assertEquals(Status.UNRECOVERED_READ_ERROR, read(device, 0, 1, Unpooled.buffer()));
        assertEquals(Status.WRITE_FAULT, flush(device));
    }

    @Test
    void imagesThatAreNotWholeBlocksAreRefused() throws IOException {
        Path odd = dir.resolve("odd.img");
        Files.write(odd, new byte[1000]);
        IOException e = assertThrows(IOException.class, () -> FileBlockDevice.open(odd, BLOCK, io));
        assertTrue(e.getMessage().contains("1000 bytes"), e.getMessage());
    }

    /** Disk space the file occupies, which {@code java.nio} does not tell. */
    private static long allocatedBytes(Path file) throws Exception {
        Process stat = new ProcessBuilder("stat", "-c", "%b*%B", file.toString()).start();
        String[] blocksTimesSize = new String(stat.getInputStream().readAllBytes()).trim().split("\\*");
        assertEquals(0, stat.waitFor());
        return Long.parseLong(blocksTimesSize[0]) * Long.parseLong(blocksTimesSize[1]);
    }

    private static byte[] spliceZeros(byte[] data, int from, int to) {
        byte[] copy = data.clone();
        Arrays.fill(copy, from, to, (byte) 0);
        return copy;
    }
}
