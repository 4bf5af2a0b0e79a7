package io.basalt.cluster.membership;

import io.basalt.cluster.Cluster;
import io.basalt.cluster.ClusterSettings;
import io.basalt.cluster.etcd.ClusterKeys;
import io.basalt.cluster.etcd.EtcdProcess;
import io.basalt.cluster.etcd.PausableProxy;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The lease fence of a node cut off from a real etcd (Debian's etcd-server, started and stopped by this
 * test) by a paused TCP proxy: it falls within TTL - margin of the cut, strictly before another client
 * of etcd sees the node's member key gone (the moment a promotion could commit), stays down while the
 * node is cut off, rises again once the node has registered again, and falls at once when the node
 * leaves.
 */
class LeaseFenceTest {
    private static final Duration TTL = Duration.ofSeconds(3);
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void theFenceFallsBeforeEtcdExpiresTheLeaseAndRisesAfterRegisteringAgain() throws Exception {
        try (EtcdProcess etcd = EtcdProcess.start(); PausableProxy proxy = new PausableProxy(etcd.clientPort());
             Client observer = Client.builder().endpoints(etcd.endpoints().toArray(URI[]::new)).build()) {
            NodeDescription self = new NodeDescription(UUID.randomUUID().toString(), "rack-a", "http://127.0.0.1:8470",
                    List.of(new PortalAddress("tcp", "127.0.0.1", 4420)));
            ClusterSettings settings = new ClusterSettings(List.of(URI.create("http://127.0.0.1:" + proxy.port())),
                    "test", "rack-a", TTL, Duration.ofSeconds(1));
            ClusterKeys keys = new ClusterKeys(settings.name());
            Cluster node = Cluster.join(settings, self, () -> new Capacity(1L << 30, 1L << 30));
            try {
                LeaseFence fence = node.leaseFence();
                // Registering's first etcd call also connects (and, first in this JVM, loads gRPC): its answer may
                // come too late to count, and the first keep-alive then raises the fence.
                await(fence::mayAcknowledge, "the fence of a registered node up");
                assertEquals(Duration.ofMillis(1030), fence.margin(), "a keep-alive interval (TTL / 3) and 1% of the TTL");
                assertTrue(memberKeyPresent(observer, keys, self));

                long pausedAt = System.nanoTime();
                proxy.pause();
                // Each round reads the fence, then asks etcd (directly, not through the proxy) whether the
                // member key is still there: a round that finds the fence down and the key present shows
                // the fence fell strictly before the key went.
                long fenceDownAt = 0;
                boolean fenceDownWhileKeyPresent = false;
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (true) {
                    boolean mayAcknowledge = fence.mayAcknowledge();
                    long checkedAt = System.nanoTime();
                    boolean present = memberKeyPresent(observer, keys, self);
                    if (!mayAcknowledge && fenceDownAt == 0) {
                        fenceDownAt = checkedAt;
                    }
                    assertFalse(mayAcknowledge && fenceDownAt != 0, "the fence rose again while the node was cut off");
                    if (!mayAcknowledge && present) {
                        fenceDownWhileKeyPresent = true;
                    }
                    if (!present) {
                        break;
                    }
                    if (System.nanoTime() > deadline) {
                        fail("etcd did not expire the lease of a node cut off for " + WAIT.toSeconds() + " s");
                    }
                    Thread.sleep(10);
                }
                // (With the fence held a keep-alive interval longer than etcd's TTL, another client saw the
                // key gone while the fence still held: shown failing so.)
                assertTrue(fenceDownWhileKeyPresent, "the fence fell only after another client saw the member key"
                        + " gone, i.e. after a promotion could have committed");
                assertTrue(fenceDownAt != 0);
                // The last keep-alive that got through was sent before the cut, so the fence's deadline is at
                // most TTL - margin after it. (With no margin, the deadline came later: shown failing so.)
                long latest = pausedAt + TTL.minus(fence.margin()).toNanos();
                assertTrue(fence.deadlineNanos() - latest <= 0, "the fence's deadline is "
                        + (fence.deadlineNanos() - latest) / 1_000_000 + " ms past the cut + TTL - margin");
                assertFalse(fence.mayAcknowledge(), "still cut off");

                proxy.resume();
                long registrations = node.registrations();
                await(() -> node.registrations() > registrations && fence.mayAcknowledge(),
                        "the node registered again and its fence up");
                assertTrue(memberKeyPresent(observer, keys, self));
            } finally {
                node.close();
            }
            // (Without the fence dropped before the lease is revoked, it still held here: shown failing so.)
            assertFalse(node.leaseFence().mayAcknowledge(), "a node that left acknowledges no write");
        }
    }

    private static boolean memberKeyPresent(Client observer, ClusterKeys keys, NodeDescription node) throws Exception {
        return observer.getKVClient().get(keys.member(node.nodeId()), GetOption.DEFAULT).get(5, TimeUnit.SECONDS)
                .getCount() > 0;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("no " + what + " within " + WAIT.toSeconds() + " s");
            }
            Thread.sleep(20);
        }
    }
}
