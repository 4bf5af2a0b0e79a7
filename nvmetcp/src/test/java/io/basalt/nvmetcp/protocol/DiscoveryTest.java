package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.DiscoveryLogEntry;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.nvmet.SubsystemPortal;
import io.basalt.nvmetcp.nvmet.TargetPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
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

    /**
     * A cluster's discovery: subsystems served by other targets are listed after this target's own,
     * each portal once (one of them repeats this target's own entry), and only for the hosts the
     * provider names them for.
     */
    @Test
    void portalsServedElsewhereAreListedOnceForTheHostsTheyAreFor() {
        String remote = "nqn.2026-11.io.basalt:node-b";
        live.target.discoveryPortals(host -> host.equals(LiveTarget.HOST) ? List.of(
                new SubsystemPortal(remote, "127.0.0.2", 4420),
                new SubsystemPortal(remote, "127.0.0.3", 4421),
                new SubsystemPortal(LiveTarget.SUBNQN, "127.0.0.1", live.port),
                new SubsystemPortal(remote, "127.0.0.2", 4420)) : List.of());
        List<DiscoveryLogEntry> entries = discover(LiveTarget.HOST, live.port);
        assertEquals(List.of(LiveTarget.SUBNQN + "@127.0.0.1:" + live.port, remote + "@127.0.0.2:4420",
                remote + "@127.0.0.3:4421"), entries.stream().map(e -> e.subnqn() + "@" + e.traddr() + ":" + e.port())
                .toList());
        assertEquals(3, entries.stream().mapToInt(DiscoveryLogEntry::portId).distinct().count(), "distinct port IDs");
        assertTrue(discover(LiveTarget.STRANGER, live.port).isEmpty(), "another host sees none of them");
    }

    /** However many portals the provider names, the log stays bounded. */
    @Test
    void portalsServedElsewhereAreCapped() {
        List<SubsystemPortal> many = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            many.add(new SubsystemPortal("nqn.2026-11.io.basalt:node-" + i, "127.0.0.2", 4420));
        }
        live.target.discoveryPortals(host -> many);
        assertEquals(1023, discover(LiveTarget.HOST, live.port).size());
    }
}
