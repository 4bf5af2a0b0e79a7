package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.NvmeStatusException;
import io.basalt.nvmetcp.nvme.Status;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.basalt.nvmetcp.protocol.IoResult.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Admin Connect refused: a host that no namespace allows, and a subsystem that does not exist. */
class ConnectRefusedTest {
    private static LiveTarget live;

    @BeforeAll
    static void start() {
        live = LiveTarget.start();
    }

    @AfterAll
    static void stop() {
        live.close();
    }

    @Test
    void hostWithoutAnyNamespaceIsAnInvalidHost() {
        Throwable e = failure(live.connectAsync(HostOptions.defaults(LiveTarget.STRANGER), LiveTarget.SUBNQN));
        NvmeStatusException refused = assertInstanceOf(NvmeStatusException.class, e);
        assertEquals(Status.CONNECT_INVALID_HOST, refused.statusCode());
        assertTrue(refused.doNotRetry());
        assertTrue(refused.getMessage().contains("Connect"), refused.getMessage());
        LiveTarget.eventually("the refused connection is closed", () -> live.target.connectionCount() == 0);
        assertEquals(0, live.target.controllerCount(), "no controller is left behind");
    }

    @Test
    void unknownSubsystemIsAnInvalidParameterNamingSubnqn() {
        Throwable e = failure(live.connectAsync(LiveTarget.hostOptions(), "nqn.2026-11.io.basalt:no-such-subsystem"));
        NvmeStatusException refused = assertInstanceOf(NvmeStatusException.class, e);
        assertEquals(Status.CONNECT_INVALID_PARAMETERS, refused.statusCode());
        assertTrue(refused.doNotRetry());
        assertEquals(1 << 16 | 256, (int) refused.result(), "IATTR: in the connect data; IPO: SUBNQN");
        LiveTarget.eventually("the refused connection is closed", () -> live.target.connectionCount() == 0);
    }
}
