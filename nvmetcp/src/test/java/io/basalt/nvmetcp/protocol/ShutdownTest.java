package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.NvmeTransportException;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A host's orderly disconnect leaves nothing behind on the target. */
class ShutdownTest {
    private LiveTarget live;

    @BeforeEach
    void start() {
        live = LiveTarget.start();
    }

    @AfterEach
    void stop() {
        live.close();
    }

    @Test
    void closeDisconnectsEveryQueueAndTheController() {
        HostController controller = live.connect(LiveTarget.hostOptions().withIoQueues(3, 32));
        LiveTarget.eventually("four queues connected", () -> live.target.queuePairCount() == 4);
        controller.close();
        assertTrue(controller.closed().isDone());
        LiveTarget.eventually("the target has no connection or controller left",
                () -> live.target.connectionCount() == 0 && live.target.controllerCount() == 0);
        IoResult late = new IoResult();
        controller.ioQueue(0).read(1, 0, 1, Unpooled.buffer(512), late);
        assertInstanceOf(NvmeTransportException.class, IoResult.failure(late));
    }
}
