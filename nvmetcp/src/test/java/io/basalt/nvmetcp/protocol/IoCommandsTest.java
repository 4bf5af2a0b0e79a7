package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.Commands;
import io.basalt.nvmetcp.host.Completion;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostQueue;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static io.basalt.nvmetcp.protocol.IoResult.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Write Zeroes, Deallocate and Flush, and the error statuses of I/O commands, on a live target. */
class IoCommandsTest {
    private static final int NSID = 1;
    private static LiveTarget live;
    private static HostController controller;
    private static HostQueue queue;

    @BeforeAll
    static void connect() {
        live = LiveTarget.start();
        controller = live.connect(LiveTarget.hostOptions());
        queue = controller.ioQueue(0);
    }

    @AfterAll
    static void stop() {
        live.close();
    }

    private static byte[] fill(long lba, int blocks, long seed) {
        byte[] pattern = new byte[blocks * 512];
        new Random(seed).nextBytes(pattern);
        IoResult written = new IoResult();
        controller.write(NSID, lba, blocks, Unpooled.wrappedBuffer(pattern), false, written);
        assertEquals(Status.SUCCESS, written.status());
        return pattern;
    }

    private static byte[] read(long lba, int blocks) {
        ByteBuf dst = Unpooled.buffer(blocks * 512);
        IoResult read = new IoResult();
        controller.read(NSID, lba, blocks, dst, read);
        assertEquals(Status.SUCCESS, read.status());
        return ByteBufUtil.getBytes(dst);
    }

    private static void assertZeroedInTheMiddle(byte[] before, byte[] after, int fromBlock, int blocks) {
        byte[] expected = before.clone();
        Arrays.fill(expected, fromBlock * 512, (fromBlock + blocks) * 512, (byte) 0);
        assertArrayEquals(expected, after, "only the range reads as zeros");
    }

    @Test
    void writeZeroesZeroesExactlyItsRange() {
        byte[] before = fill(1000, 64, 1);
        IoResult zeroed = new IoResult();
        controller.writeZeroes(NSID, 1010, 20, zeroed);
        assertEquals(Status.SUCCESS, zeroed.status());
        assertZeroedInTheMiddle(before, read(1000, 64), 10, 20);
    }

    @Test
    void deallocatedBlocksReadAsZeros() {
        byte[] before = fill(2000, 64, 2);
        IoResult deallocated = new IoResult();
        controller.deallocate(NSID, 2032, 16, deallocated);
        assertEquals(Status.SUCCESS, deallocated.status());
        assertZeroedInTheMiddle(before, read(2000, 64), 32, 16);
    }

    @Test
    void flushReachesTheDevice() {
        int before = live.ns1.flushes();
        IoResult flushed = new IoResult();
        controller.flush(NSID, flushed);
        assertEquals(Status.SUCCESS, flushed.status());
        assertEquals(before + 1, live.ns1.flushes());
    }

    @Test
    void accessBeyondTheLastBlockIsOutOfRangeAndFinal() {
        IoResult read = new IoResult();
        controller.read(NSID, LiveTarget.NS1_BLOCKS - 1, 2, Unpooled.buffer(1024), read);
        assertEquals(Status.LBA_OUT_OF_RANGE | Status.DNR, read.status());
        IoResult write = new IoResult();
        controller.write(NSID, LiveTarget.NS1_BLOCKS, 1, Unpooled.wrappedBuffer(new byte[512]), false, write);
        assertEquals(Status.LBA_OUT_OF_RANGE | Status.DNR, write.status());
        IoResult zeroes = new IoResult();
        controller.writeZeroes(NSID, LiveTarget.NS1_BLOCKS - 4, 8, zeroes);
        assertEquals(Status.LBA_OUT_OF_RANGE | Status.DNR, zeroes.status());
        IoResult deallocate = new IoResult();
        controller.deallocate(NSID, LiveTarget.NS1_BLOCKS - 4, 8, deallocate);
        assertEquals(Status.LBA_OUT_OF_RANGE | Status.DNR, deallocate.status());
    }

    @Test
    void unknownIoOpcodeIsInvalid() {
        ByteBuf sqe = Commands.newSqe(0x7C); // no NVM command has it; bits 1:0 say "no data"
        sqe.setIntLE(Sqe.NSID, NSID);
        assertEquals(Status.INVALID_OPCODE | Status.DNR, await(queue.command(sqe, null, 0)).status());
    }

    @Test
    void namespacesTheHostCannotSeeAreInvalid() {
        for (int nsid : new int[] {2, 77}) {
            ByteBuf sqe = Commands.newSqe(Opcodes.IO_READ);
            Commands.readWrite(sqe, Opcodes.IO_READ, nsid, 0, 1, false);
            Completion c = await(queue.command(sqe, Unpooled.buffer(512), 512));
            assertEquals(Status.INVALID_NAMESPACE | Status.DNR, c.status(), "namespace " + nsid);
        }
    }

    @Test
    void transfersAboveMdtsAreRefused() {
        int blocks = (2 << 20) / 512; // 2 MiB, twice MDTS
        ByteBuf read = Commands.newSqe(Opcodes.IO_READ);
        Commands.readWrite(read, Opcodes.IO_READ, NSID, 0, blocks, false);
        assertEquals(Status.INVALID_FIELD | Status.DNR, await(queue.command(read, Unpooled.buffer(), 2 << 20)).status());
        ByteBuf write = Commands.newSqe(Opcodes.IO_WRITE);
        Commands.readWrite(write, Opcodes.IO_WRITE, NSID, 0, blocks, false);
        ByteBuf data = Unpooled.wrappedBuffer(new byte[2 << 20]);
        assertEquals(Status.INVALID_FIELD | Status.DNR, await(queue.command(write, data, 2 << 20)).status());
        // the queue is still usable afterwards
        assertEquals(512 * 4, read(0, 4).length);
    }
}
