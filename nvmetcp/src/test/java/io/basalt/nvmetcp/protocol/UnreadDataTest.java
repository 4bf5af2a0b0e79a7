package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvmet.ResourceLimits;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.basalt.nvmetcp.nvme.Status.SUCCESS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A host that pipelines 1 MiB reads and never reads its socket holds at most its connection's data
 * budget; before the budget and the slot held until the data is on the wire, all 100 reads ran and
 * their 100 MiB waited in the target's outbound buffer (this test failed so).
 */
class UnreadDataTest {
    private static final int CONNECTION_BYTES = 4 << 20;
    private static final int READS = 100;
    private static final int READ_BLOCKS = 2048;

    @Test
    void readsNobodyReceivesHoldAtMostTheConnectionsBudget() throws Exception {
        ResourceLimits limits = new ResourceLimits(CONNECTION_BYTES, 32 << 20, 64, 1024, 10_000, 10_000);
        try (LiveTarget live = LiveTarget.start(TargetOptions.defaults(LiveTarget.SERIAL).withLimits(limits))) {
            HostController good = live.connect(LiveTarget.hostOptions());
            byte[] pattern = new byte[64 * 512];
            new Random(11).nextBytes(pattern);
            ByteBuf src = PooledByteBufAllocator.DEFAULT.directBuffer(pattern.length).writeBytes(pattern);
            IoResult written = new IoResult();
            good.write(1, 0, 64, src, false, written);
            assertEquals(SUCCESS, written.status());
            src.release();

            HostController attacker = live.connect(HostOptions.defaults(LiveTarget.HOST).withIoQueues(0, 128));
            long before = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            try (RawQueue raw = new RawQueue(live.port)) {
                assertEquals(SUCCESS, raw.connectIo(LiveTarget.SUBNQN, LiveTarget.HOST, attacker.options().hostId(),
                        attacker.cntlid(), 1, 128));
                for (int cid = 1; cid <= READS; cid++) {
                    ByteBuf sqe = RawQueue.readWrite(Opcodes.IO_READ, cid, 1, 0, READ_BLOCKS, READ_BLOCKS * 512);
                    raw.send(RawQueue.capsule(sqe, null));
                    sqe.release();
                }
                LiveTarget.eventually("the attacker's reads hold bytes", () -> live.target.dataBytesInUse() > 0);
                Thread.sleep(1000); // time for every read the target would run
                long grown = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() - before;
                assertTrue(live.target.dataBytesInUse() <= CONNECTION_BYTES, "bytes held: " + live.target.dataBytesInUse());
                assertTrue(grown < 24 << 20, "direct memory grew by " + grown + " bytes for reads nobody receives");

                ByteBuf dst = PooledByteBufAllocator.DEFAULT.directBuffer(pattern.length);
                IoResult read = new IoResult();
                good.read(1, 0, 64, dst, read);
                assertEquals(SUCCESS, read.status(), "another host still reads");
                assertArrayEquals(pattern, ByteBufUtil.getBytes(dst));
                dst.release();
            }
            LiveTarget.eventually("the bytes return once the attacker is gone", () -> live.target.dataBytesInUse() == 0);
        }
    }
}
