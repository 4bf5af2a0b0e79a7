package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostQueue;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.basalt.nvmetcp.nvme.Status.SUCCESS;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The SMART / Health log's I/O figures of a controller whose I/O queues run on different event loops
 * of the target: each loop counts its own, the log page shows the sums. Shown failing with the
 * counters' merge reading only the first event loop's figures.
 */
class SmartLogTest {
    private static final int SMART_LENGTH = 512;
    private LiveTarget live;

    @AfterEach
    void stop() {
        live.close();
    }

    @Test
    void theLogPageSumsTheIoOfEveryQueue() {
        live = LiveTarget.start();
        HostController controller = live.connect(LiveTarget.hostOptions().withIoQueues(2, 8));
        HostQueue first = controller.ioQueue(0);
        HostQueue second = controller.ioQueue(1);
        ByteBuf data = PooledByteBufAllocator.DEFAULT.directBuffer(64 * 512).writeZero(64 * 512);
        try {
            for (int i = 0; i < 3; i++) { // 3 writes of 8 blocks (in the capsule) on the first queue
                IoResult written = new IoResult();
                first.write(1, i * 8, 8, data.slice(0, 8 * 512), false, written);
                assertEquals(SUCCESS, written.status());
            }
            for (int i = 0; i < 5; i++) { // 5 reads of 64 blocks on the second
                IoResult read = new IoResult();
                ByteBuf dst = PooledByteBufAllocator.DEFAULT.directBuffer(64 * 512);
                try {
                    second.read(1, 0, 64, dst, read);
                    assertEquals(SUCCESS, read.status());
                } finally {
                    dst.release();
                }
            }
            IoResult written = new IoResult(); // and one write of 64 blocks (in the capsule) on the second
            second.write(1, 100, 64, data.slice(), false, written);
            assertEquals(SUCCESS, written.status());
        } finally {
            data.release();
        }
        ByteBuf log = IoResult.await(controller.getLogPage(Opcodes.LOG_SMART, 0xFFFFFFFF, 0, SMART_LENGTH, false));
        try {
            assertEquals(1, log.getLongLE(log.readerIndex() + 32), "data units read: 320 blocks, rounded up to thousands");
            assertEquals(1, log.getLongLE(log.readerIndex() + 48), "data units written: 88 blocks, rounded up");
            assertEquals(5, log.getLongLE(log.readerIndex() + 64), "host read commands");
            assertEquals(4, log.getLongLE(log.readerIndex() + 80), "host write commands");
        } finally {
            log.release();
        }
        controller.close();
    }
}
