package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.ResourceLimits;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.UUID;

import static io.basalt.nvmetcp.nvme.Status.SUCCESS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Over real sockets: a host that pipelines writes with their data in the capsule to a device that does
 * not complete them has no more of them in the target than the data budgets (the rest stay unread in
 * the socket), and another host's write, which waits for the node's budget meanwhile, runs once those
 * bytes return. Failed before in-capsule data was counted (all 40 writes, 1.25 MiB, reached the
 * device within a budget of 1 MiB).
 */
class InCapsuleBudgetTest {
    private static final int IN_CAPSULE = 32 * 1024;
    /** The connection's and the node's budget: 32 writes. */
    private static final int BUDGET = 1 << 20;
    private static final int WRITES = 40;

    @Test
    void inCapsuleWritesNobodyCompletesHoldAtMostTheBudgetAndAnotherHostGoesOnOnceTheyReturn() throws Exception {
        ResourceLimits limits = new ResourceLimits(BUDGET, BUDGET, 64, 1024, 10_000, 10_000);
        try (LiveTarget live = LiveTarget.start(TargetOptions.defaults(LiveTarget.SERIAL).withLimits(limits))) {
            TestDevice held = new TestDevice(512, LiveTarget.NS1_BLOCKS, Runnable::run).holdWrites();
            live.subsystem.addNamespace(new Namespace(3, UUID.randomUUID(), new byte[16], held, Set.of(LiveTarget.HOST)));
            HostController good = live.connect(LiveTarget.hostOptions());
            HostController attacker = live.connect(HostOptions.defaults(LiveTarget.HOST).withIoQueues(0, 128));
            try (RawQueue raw = new RawQueue(live.port)) {
                assertEquals(SUCCESS, raw.connectIo(LiveTarget.SUBNQN, LiveTarget.HOST, attacker.options().hostId(),
                        attacker.cntlid(), 1, 128));
                byte[] data = new byte[IN_CAPSULE];
                for (int cid = 1; cid <= WRITES; cid++) {
                    ByteBuf sqe = RawQueue.readWrite(Opcodes.IO_WRITE, cid, 3, (cid - 1) * 64L, 64, IN_CAPSULE);
                    sqe.setByte(Sqe.SGL_TYPE, Sqe.SGL_INCAPSULE);
                    raw.send(RawQueue.capsule(sqe, data));
                    sqe.release();
                }
                int fit = BUDGET / IN_CAPSULE;
                LiveTarget.eventually("a budget's worth of writes reach the device", () -> held.heldWrites() >= fit);
                Thread.sleep(500); // time for any write the target would still run
                assertEquals(fit, held.heldWrites(), "writes beyond the budgets reached the device");
                assertEquals(BUDGET, live.target.dataBytesInUse());

                ByteBuf src = PooledByteBufAllocator.DEFAULT.directBuffer(4096).writeZero(4096);
                IoResult written = new IoResult();
                good.write(1, 0, 8, src, false, written); // 4 KiB in its capsule
                Thread.sleep(300);
                assertFalse(written.isDone(), "another host's write ran over the node's budget");
                held.completeHeldWrites();
                assertEquals(SUCCESS, written.status(), "another host's write runs once the bytes returned");
                src.release();
                LiveTarget.eventually("the writes left in the socket are read once bytes returned",
                        () -> held.heldWrites() == WRITES - fit);
                held.completeHeldWrites();
            }
            LiveTarget.eventually("the bytes return once the host is gone", () -> live.target.dataBytesInUse() == 0);
        }
    }
}
