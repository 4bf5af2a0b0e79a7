package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostQueue;
import io.basalt.nvmetcp.host.NvmeStatusException;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.basalt.nvmetcp.protocol.IoResult.await;
import static io.basalt.nvmetcp.protocol.IoResult.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A target allowing two I/O queues of 16 entries: hosts get what it grants and no more. */
class QueueLimitsTest {
    private static final int MAX_IO_QUEUES = 2;
    private static final int MAX_QUEUE_SIZE = 16;
    private LiveTarget live;
    private HostController controller;

    @BeforeEach
    void connect() {
        live = LiveTarget.start(new TargetOptions(MAX_IO_QUEUES, MAX_QUEUE_SIZE, 8192, 128 * 1024, 1 << 20, "LIMITS"));
        controller = live.connect(LiveTarget.hostOptions().withIoQueues(4, 64));
    }

    @AfterEach
    void stop() {
        live.close();
    }

    @Test
    void hostAskingForMoreQueuesGetsWhatTheTargetGrants() {
        assertEquals(MAX_IO_QUEUES, controller.ioQueueCount());
        int granted = await(controller.getFeatures(Opcodes.FEATURE_NUMBER_OF_QUEUES));
        assertEquals((MAX_IO_QUEUES - 1) | (MAX_IO_QUEUES - 1) << 16, granted, "NSQA and NCQA, zero based");
        assertEquals(MAX_QUEUE_SIZE - 1, controller.ioQueue(0).depth(), "queue size capped by CAP.MQES");
        assertEquals(1 + MAX_IO_QUEUES, live.target.queuePairCount());
    }

    @Test
    void queueBeyondTheGrantIsRefused() {
        Throwable e = failure(controller.connectIoQueue(MAX_IO_QUEUES + 1));
        NvmeStatusException refused = assertInstanceOf(NvmeStatusException.class, e);
        assertEquals(Status.CONNECT_INVALID_PARAMETERS, refused.statusCode());
        assertEquals(42, (int) refused.result(), "IPO: the QID field of the Connect command");
        assertEquals(MAX_IO_QUEUES, controller.ioQueueCount());
    }

    @Test
    void queueIdentifierAlreadyConnectedIsRefused() {
        NvmeStatusException refused = assertInstanceOf(NvmeStatusException.class, failure(controller.connectIoQueue(1)));
        assertEquals(Status.CONNECT_INVALID_PARAMETERS, refused.statusCode());
        IoResult read = new IoResult();
        controller.ioQueue(0).read(1, 0, 1, Unpooled.buffer(512), read);
        assertEquals(Status.SUCCESS, read.status(), "the original queue 1 still works");
    }

    @Test
    void disconnectedQueueCanBeConnectedAgain() {
        HostQueue first = controller.ioQueue(0);
        await(first.disconnect());
        assertTrue(first.closed().isDone(), "the target closes a disconnected queue");
        LiveTarget.eventually("the target dropped the queue", () -> live.target.queuePairCount() == MAX_IO_QUEUES);
        HostQueue again = await(controller.connectIoQueue(1));
        assertEquals(MAX_IO_QUEUES, controller.ioQueueCount(), "the new queue 1 replaces the old one");
        assertEquals(again, controller.ioQueue(0));
        IoResult read = new IoResult();
        again.read(1, 0, 1, Unpooled.buffer(512), read);
        assertEquals(Status.SUCCESS, read.status());
    }
}
