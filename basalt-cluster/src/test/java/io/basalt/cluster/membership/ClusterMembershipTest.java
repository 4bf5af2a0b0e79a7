package io.basalt.cluster.membership;

import io.basalt.cluster.Cluster;
import io.basalt.cluster.ClusterException;
import io.basalt.cluster.ClusterSettings;
import io.basalt.cluster.etcd.ClusterKeys;
import io.basalt.cluster.etcd.EtcdProcess;
import io.basalt.cluster.etcd.PausableProxy;
import io.basalt.cluster.placement.Placement;
import io.basalt.cluster.placement.PlacementException;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three nodes' memberships against a real etcd (Debian's etcd-server, started and stopped by this test):
 * they register and see each other, capacity changes reach the others, a node cut off from etcd drops out
 * after its lease's TTL (and knows it has, while still cut off) and comes back by itself, a node that
 * leaves is gone at once, and placement works on what the lists show.
 */
class ClusterMembershipTest {
    private static final long GIB = 1L << 30;
    private static final Duration TTL = Duration.ofSeconds(3);
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void nodesRegisterDropOutAfterTheirTtlAndComeBack() throws Exception {
        try (EtcdProcess etcd = EtcdProcess.start(); PausableProxy proxy = new PausableProxy(etcd.clientPort())) {
            AtomicReference<Capacity> capacityA = new AtomicReference<>(new Capacity(100 * GIB, 80 * GIB));
            AtomicReference<Capacity> capacityC = new AtomicReference<>(new Capacity(200 * GIB, 190 * GIB));
            NodeDescription a = node("rack-a", 4420);
            NodeDescription b = node("rack-b", 4421);
            NodeDescription c = node("rack-a", 4422);
            try (Cluster nodeA = Cluster.join(settings(etcd.endpoints(), "rack-a"), a, capacityA::get);
                 Cluster nodeB = Cluster.join(settings(etcd.endpoints(), "rack-b"), b, () -> new Capacity(100 * GIB, 50 * GIB));
                 Cluster nodeC = Cluster.join(settings(List.of(URI.create("http://127.0.0.1:" + proxy.port())), "rack-a"), c,
                         () -> readable(capacityC.get()))) {
                for (Cluster node : List.of(nodeA, nodeB, nodeC)) {
                    awaitMembers(node, members -> members.stream().filter(Member::live).count() == 3, "three live members");
                }
                // One secret for the cluster: the first node to join made it, the others read it.
                assertArrayEquals(nodeA.secret().derive("purpose"), nodeB.secret().derive("purpose"));
                assertArrayEquals(nodeA.secret().derive("purpose"), nodeC.secret().derive("purpose"));
                assertFalse(Arrays.equals(nodeA.secret().derive("purpose"), nodeA.secret().derive("other")));
                Member seenC = memberOf(nodeA, c);
                assertEquals(c, seenC.description());
                assertEquals(new Capacity(200 * GIB, 190 * GIB), seenC.status().orElseThrow().capacity());
                assertTrue(seenC.leaseId() != 0);

                capacityA.set(new Capacity(100 * GIB, 20 * GIB));
                awaitMembers(nodeB, members -> memberIn(members, a).freeBytes() == 20 * GIB, "A's new free space");

                assertEquals(List.of(c.nodeId(), b.nodeId()),
                        Placement.choose(nodeA.liveMembers(), 2, GIB).stream().map(Member::nodeId).toList());
                assertThrows(PlacementException.class, () -> Placement.choose(nodeA.liveMembers(), 3, GIB));

                proxy.pause();
                // Registering again needs C's capacity: while it cannot be read C stays out, and keeps trying.
                // (Before the periodic tasks survived a surprise, the first failure ended C's keep-alives for
                // good and C never came back: this test failed at "C live again".)
                capacityC.set(null);
                awaitMembers(nodeA, members -> !memberIn(members, c).live(), "C down once its lease expired");
                assertEquals(c, memberOf(nodeB, c).description(), "a node that is down stays known");
                assertThrows(PlacementException.class, () -> Placement.choose(nodeA.liveMembers(), 1, 100 * GIB),
                        "only C had 100 GiB free");

                awaitMembers(nodeC, members -> nodeC.leaseLosses() == 1,
                        "C knowing, while still cut off, that no keep-alive got through for a TTL");

                proxy.resume();
                Thread.sleep(TTL.toMillis());
                assertFalse(memberOf(nodeA, c).live(), "C cannot register without its capacity");
                capacityC.set(new Capacity(200 * GIB, 190 * GIB));
                awaitMembers(nodeA, members -> memberIn(members, c).live(), "C live again");
                // A may see C's new status before C has read etcd's answer to its registration.
                awaitMembers(nodeC, members -> nodeC.registrations() >= 2, "C counting its second registration");
                // One loss, unless this machine stalled etcd or C for a whole TTL besides: every loss is
                // followed by one registration, since C is live again.
                assertTrue(nodeC.leaseLosses() >= 1);
                assertEquals(nodeC.leaseLosses() + 1, nodeC.registrations());
                assertEquals(c.nodeId(), Placement.choose(nodeA.liveMembers(), 1, 100 * GIB).getFirst().nodeId());

                nodeB.close();
                awaitMembers(nodeA, members -> !memberIn(members, b).live(), "B down as soon as it left");
            }
        }
    }

    @Test
    void aSecondProcessWithALiveNodeIdIsRefusedAndBadRecordsAreLeftOut() throws Exception {
        try (EtcdProcess etcd = EtcdProcess.start()) {
            NodeDescription a = node("host-1", 4420);
            // A longer TTL than the other test's: A must stay live while the second process tries (TTL + 5 s).
            ClusterSettings settings = new ClusterSettings(etcd.endpoints(), "test", "host-1", Duration.ofSeconds(6),
                    Duration.ofSeconds(1));
            try (Cluster nodeA = Cluster.join(settings, a, () -> new Capacity(GIB, GIB));
                 Client client = Client.builder().endpoints(etcd.endpoints().toArray(URI[]::new)).build()) {
                ClusterKeys keys = new ClusterKeys(settings.name());
                String stranger = UUID.randomUUID().toString();
                client.getKVClient().put(keys.node(stranger), ByteSequence.from("not json", StandardCharsets.UTF_8))
                        .get(5, TimeUnit.SECONDS);
                client.getKVClient().put(keys.node(UUID.randomUUID().toString()),
                        ByteSequence.from(new byte[MemberRecords.MAX_VALUE_BYTES + 1])).get(5, TimeUnit.SECONDS);
                NodeDescription d = node("host-2", 4423);
                try (Cluster nodeD = Cluster.join(settings(etcd.endpoints(), "host-2"), d, () -> new Capacity(GIB, GIB))) {
                    awaitMembers(nodeA, members -> members.size() == 2, "A and D, and nothing else");
                    assertEquals(List.of(a, d), nodeD.members().stream().map(Member::description).toList());
                }

                ClusterException refused = assertThrows(ClusterException.class,
                        () -> Cluster.join(settings, a, () -> new Capacity(GIB, GIB)).close());
                assertTrue(refused.getMessage().contains("node id " + a.nodeId() + " is live in cluster 'test'"),
                        refused.getMessage());
                assertTrue(memberOf(nodeA, a).live(), "the first process keeps its membership");
            }
        }
    }

    @Test
    void joiningFailsClearlyWhenEtcdDoesNotAnswer() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        long started = System.nanoTime();
        ClusterException refused = assertThrows(ClusterException.class, () -> Cluster.join(
                settings(List.of(URI.create("http://127.0.0.1:" + closedPort)), "rack-a"), node("rack-a", 4420),
                () -> new Capacity(GIB, GIB)).close());
        assertTrue(refused.getMessage().contains("etcd"), refused.getMessage());
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(20), "bounded by the call timeout");
    }

    /** A capacity supplier that fails while the capacity is unknown (null), as a failing engine could. */
    private static Capacity readable(Capacity capacity) {
        if (capacity == null) {
            throw new IllegalStateException("the capacity cannot be read");
        }
        return capacity;
    }

    private static ClusterSettings settings(List<URI> endpoints, String failureDomain) {
        return new ClusterSettings(endpoints, "test", failureDomain, TTL, Duration.ofSeconds(1));
    }

    private static NodeDescription node(String failureDomain, int port) {
        return new NodeDescription(UUID.randomUUID().toString(), failureDomain, "http://127.0.0.1:" + (port + 4000),
                List.of(new PortalAddress("tcp", "127.0.0.1", port)));
    }

    private static Member memberOf(Cluster observer, NodeDescription node) {
        return memberIn(observer.members(), node);
    }

    private static Member memberIn(List<Member> members, NodeDescription node) {
        Optional<Member> found = members.stream().filter(m -> m.nodeId().equals(node.nodeId())).findFirst();
        return found.orElseThrow(() -> new AssertionError(node.nodeId() + " is not listed: " + members));
    }

    private static void awaitMembers(Cluster observer, Predicate<List<Member>> condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (condition.test(observer.members())) {
                    return;
                }
            } catch (AssertionError notYet) {
                // a member not listed yet
            }
            Thread.sleep(50);
        }
        fail("no " + what + " within " + WAIT.toSeconds() + " s: " + observer.members());
    }
}
