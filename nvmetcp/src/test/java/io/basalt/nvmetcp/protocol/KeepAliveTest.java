package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.Commands;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.NvmeTransportException;
import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The target's keep alive timer: a silent host loses its controller, a live one keeps it. */
class KeepAliveTest {
    private static final int KATO_MILLIS = 1000;
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
    void silentHostIsDisconnectedAfterKato() throws Exception {
        // The controller's timer starts when it is created, which is after this instant.
        long connecting = System.nanoTime();
        HostController controller = live.connect(LiveTarget.hostOptions().withKeepAliveTimeout(KATO_MILLIS));
        controller.stopKeepAlive();
        IoResult pending = new IoResult();
        controller.adminQueue().submit(Commands.asyncEventRequest(), null, 0, pending);

        controller.closed().get(5 * KATO_MILLIS, TimeUnit.MILLISECONDS);

        long aliveMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connecting);
        assertTrue(aliveMillis >= KATO_MILLIS, "closed after " + aliveMillis + " ms, before KATO passed");
        LiveTarget.eventually("every queue of the controller is closed",
                () -> live.target.connectionCount() == 0 && live.target.controllerCount() == 0);
        try {
            assertTrue(pending.get(5, TimeUnit.SECONDS).status() != Status.SUCCESS, "the held AER is aborted");
        } catch (ExecutionException e) {
            assertInstanceOf(NvmeTransportException.class, e.getCause(), "or fails with the connection");
        }
        IoResult late = new IoResult();
        controller.read(1, 0, 1, Unpooled.buffer(512), late);
        ExecutionException e = assertThrows(ExecutionException.class, () -> late.get(5, TimeUnit.SECONDS));
        assertInstanceOf(NvmeTransportException.class, e.getCause(), "I/O after the loss fails at once");
    }

    @Test
    void hostSendingKeepAlivesKeepsItsController() throws Exception {
        HostController controller = live.connect(LiveTarget.hostOptions().withKeepAliveTimeout(KATO_MILLIS));
        assertThrows(TimeoutException.class, () -> controller.closed().get(3 * KATO_MILLIS, TimeUnit.MILLISECONDS),
                "the controller must outlive three keep alive timeouts");
        IoResult read = new IoResult();
        controller.read(1, 0, 1, Unpooled.buffer(512), read);
        assertEquals(Status.SUCCESS, read.status());
    }
}
