package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.DiscoveryLogEntry;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.nvmet.TargetPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.basalt.nvmetcp.protocol.IoResult.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The discovery controller's log: one entry per I/O port for each subsystem the host may use. */
class DiscoveryTest {
    private LiveTarget live;

    @BeforeEach
    void start() {
        live = LiveTarget.start();
    }

    @AfterEach
    void stop() {
        live.close();
    }

    private List<DiscoveryLogEntry> discover(String hostNqn, int port) {
        return await(HostController.discover(live.hostGroup, HostOptions.defaults(hostNqn), "127.0.0.1", port));
    }

    @Test
    void allowedHostFindsTheSubsystemAndHowToReachIt() {
        List<DiscoveryLogEntry> entries = discover(LiveTarget.HOST, live.port);
        assertEquals(1, entries.size(), entries.toString());
        DiscoveryLogEntry entry = entries.get(0);
        assertEquals(LiveTarget.SUBNQN, entry.subnqn());
        assertEquals(3, entry.trtype(), "TCP");
        assertEquals(1, entry.adrfam(), "IPv4");
        assertEquals(2, entry.subtype(), "NVM subsystem");
        assertEquals("127.0.0.1", entry.traddr());
        assertEquals(live.port, entry.port());
        assertEquals(0xFFFF, entry.cntlid(), "dynamic controller model");
        LiveTarget.eventually("the discovery connection is closed", () -> live.target.connectionCount() == 0);
        assertEquals(0, live.target.controllerCount(), "the discovery controller went away with its connection");
    }

    @Test
    void hostWithoutNamespacesFindsNothingUntilAnAclNamesIt() {
        assertTrue(discover(LiveTarget.STRANGER, live.port).isEmpty());
        live.subsystem.setAllowedHosts(2, Set.of(LiveTarget.OTHER_HOST, LiveTarget.STRANGER));
        List<DiscoveryLogEntry> entries = discover(LiveTarget.STRANGER, live.port);
        assertEquals(1, entries.size());
        assertEquals(LiveTarget.SUBNQN, entries.get(0).subnqn());
    }

    @Test
    void discoveryOnlyPortServesTheLogButIsNotListed() {
        int discoveryPort = await(live.target.listen(new TargetPort("127.0.0.1", 0, "127.0.0.1", true))).getPort();
        List<DiscoveryLogEntry> entries = discover(LiveTarget.HOST, discoveryPort);
        assertEquals(1, entries.size(), entries.toString());
        assertEquals(live.port, entries.get(0).port(), "only the I/O port is listed");
    }
}
