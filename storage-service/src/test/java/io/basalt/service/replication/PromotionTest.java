package io.basalt.service.replication;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.cluster.Cluster;
import io.basalt.cluster.ClusterException;
import io.basalt.cluster.ClusterSettings;
import io.basalt.cluster.etcd.ClusterKeys;
import io.basalt.cluster.etcd.EtcdProcess;
import io.basalt.cluster.membership.Capacity;
import io.basalt.cluster.membership.Membership;
import io.basalt.cluster.membership.NodeDescription;
import io.basalt.cluster.membership.PortalAddress;
import io.basalt.cluster.volumes.VolumeRecords;
import io.basalt.cluster.volumes.VolumeTransactions;
import io.basalt.service.replication.Promotion.Outcome;
import io.basalt.service.replication.Promotion.Result;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Promotion of an in-sync secondary against a real etcd (Debian's, started and stopped by PID), the
 * nodes' liveness being real registrations (their {@code members/} keys under their leases): of two
 * candidates at once exactly one wins, the generation goes up by exactly one, and nothing changes while
 * the old primary is live, on a record read before another change, for a copy out of sync, or for a
 * candidate that is not live itself.
 */
class PromotionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long GIB = 1L << 30;
    private static final String VOLUME = "v1";

    private static EtcdProcess etcd;
    private static Client client;
    private static ExecutorService control;

    private final List<Cluster> nodes = new ArrayList<>();
    private ClusterKeys keys;
    private VolumeTransactions transactions;
    private String a;
    private String b;
    private String c;

    @BeforeAll
    static void startEtcd() throws Exception {
        EtcdProcess.assumeInstalled();
        etcd = EtcdProcess.start();
        client = Client.builder().endpoints(etcd.endpoints().toArray(URI[]::new)).build();
        control = Executors.newFixedThreadPool(2);
    }

    @AfterAll
    static void stopEtcd() throws Exception {
        if (control != null) {
            control.shutdownNow();
            client.close();
            etcd.close();
        }
    }

    /** A volume on A (primary), B and C, all in sync, at generation 7, in a cluster of its own. */
    @BeforeEach
    void record() throws Exception {
        String cluster = "promotion-" + UUID.randomUUID().toString().substring(0, 8);
        keys = new ClusterKeys(cluster);
        transactions = new VolumeTransactions(client, keys, Membership.CALL_TIMEOUT);
        a = join(cluster, "rack-a");
        b = join(cluster, "rack-b");
        c = join(cluster, "rack-c");
        assertTrue(transactions.create(VOLUME, "p", "vol", ("{\"id\":\"v1\",\"project\":\"p\",\"name\":\"vol\","
                + "\"nodeIds\":[\"" + a + "\",\"" + b + "\",\"" + c + "\"],\"generation\":7,\"hosts\":[\"h\"]}")
                .getBytes(StandardCharsets.UTF_8)));
    }

    @AfterEach
    void leave() {
        nodes.forEach(Cluster::close);
    }

    @Test
    void ofTwoCandidatesAtOnceExactlyOneIsPromotedAndTheGenerationGoesUpByOne() throws Exception {
        stop(a);
        VolumeRecords.Stored read = current();
        CountDownLatch go = new CountDownLatch(1);
        Executor gated = task -> control.execute(() -> {
            awaitQuietly(go);
            task.run();
        });
        CompletableFuture<Result> byB = new Promotion(transactions, b, gated).promote(VOLUME, read);
        CompletableFuture<Result> byC = new Promotion(transactions, c, gated).promote(VOLUME, read);
        go.countDown();
        List<Result> results = List.of(byB.get(10, TimeUnit.SECONDS), byC.get(10, TimeUnit.SECONDS));

        // (Without the mod revision compared, both won, the last one's record standing: shown failing so.)
        List<Outcome> outcomes = results.stream().map(Result::outcome).sorted().toList();
        assertEquals(List.of(Outcome.PROMOTED, Outcome.RECORD_CHANGED), outcomes);
        String winner = results.get(0).outcome() == Outcome.PROMOTED ? b : c;
        JsonNode now = JSON.readTree(current().json());
        assertEquals(winner, ReplicaRoles.primary(now));
        assertEquals(8, ReplicaRoles.generation(now), "one promotion, one generation");
        assertEquals(8, results.stream().filter(r -> r.outcome() == Outcome.PROMOTED).findFirst().orElseThrow().generation());
        assertEquals(List.of(b, c), ReplicaRoles.inSync(now), "the old primary is out of the in-sync set");
        assertEquals(List.of(a, b, c), ReplicaRoles.nodeIds(now), "where the copies are does not change");
        assertEquals("h", now.path("hosts").get(0).asText(), "the rest of the record is kept");
        assertTrue(results.stream().allMatch(r -> r.oldPrimary().equals(a)));

        Result again = new Promotion(transactions, winner, control).promote(VOLUME, current()).get(10, TimeUnit.SECONDS);
        assertEquals(Outcome.ALREADY_PRIMARY, again.outcome());
    }

    @Test
    void nothingChangesWhileTheOldPrimaryIsLive() throws Exception {
        VolumeRecords.Stored read = current();
        Result result = new Promotion(transactions, b, control).promote(VOLUME, read).get(10, TimeUnit.SECONDS);
        // (Without the old primary's member key compared, B was promoted over a live A: shown failing so.)
        assertEquals(Outcome.PRIMARY_LIVE, result.outcome());
        assertEquals(7, result.generation());
        assertUnchanged(read);

        stop(a);
        assertEquals(Outcome.PROMOTED, new Promotion(transactions, b, control).promote(VOLUME, read)
                .get(10, TimeUnit.SECONDS).outcome(), "the same record, once A's lease is gone");
    }

    @Test
    void aRecordReadBeforeAnotherChangeLoses() throws Exception {
        stop(a);
        VolumeRecords.Stored stale = current();
        EtcdInSyncSet inSyncSet = new EtcdInSyncSet(transactions, VOLUME, a, control);
        assertEquals(8, inSyncSet.remove(c).get(10, TimeUnit.SECONDS), "C taken out of sync after B read the record");
        VolumeRecords.Stored changed = current();

        Result result = new Promotion(transactions, b, control).promote(VOLUME, stale).get(10, TimeUnit.SECONDS);
        // (Without the mod revision compared, B was promoted on the stale record: shown failing so.)
        assertEquals(Outcome.RECORD_CHANGED, result.outcome());
        assertUnchanged(changed);
        // C, out of sync in the record now, is refused before etcd is asked.
        assertEquals(Outcome.NOT_IN_SYNC, new Promotion(transactions, c, control).promote(VOLUME, changed)
                .get(10, TimeUnit.SECONDS).outcome());
        assertUnchanged(changed);
    }

    @Test
    void aDeposedPrimaryChangesNotTheNewPrimarysInSyncSet() throws Exception {
        stop(a);
        assertEquals(Outcome.PROMOTED, new Promotion(transactions, b, control).promote(VOLUME, current())
                .get(10, TimeUnit.SECONDS).outcome());
        VolumeRecords.Stored promoted = current();
        // A back, its writes to C refused (C follows B's generation): A's store takes C out of sync.
        ExecutionException refused = assertThrows(ExecutionException.class,
                () -> new EtcdInSyncSet(transactions, VOLUME, a, control).remove(c).get(10, TimeUnit.SECONDS));
        // (Without the record's primary compared, C left B's in-sync set: shown failing so.)
        assertTrue(refused.getCause() instanceof ClusterException, refused.toString());
        assertUnchanged(promoted);
        assertEquals(9, new EtcdInSyncSet(transactions, VOLUME, b, control).remove(c).get(10, TimeUnit.SECONDS),
                "the new primary changes it");
    }

    @Test
    void aCandidateThatIsNotLiveItselfIsRefused() throws Exception {
        stop(a);
        stop(b);
        VolumeRecords.Stored read = current();
        // (Without the candidate's own member key compared, B was promoted after leaving: shown failing so.)
        assertEquals(Outcome.NOT_LIVE, new Promotion(transactions, b, control).promote(VOLUME, read)
                .get(10, TimeUnit.SECONDS).outcome());
        assertUnchanged(read);
    }

    private String join(String cluster, String failureDomain) throws Exception {
        NodeDescription node = new NodeDescription(UUID.randomUUID().toString(), failureDomain, "http://127.0.0.1:8470",
                List.of(new PortalAddress("tcp", "127.0.0.1", 4420)));
        nodes.add(Cluster.join(new ClusterSettings(etcd.endpoints(), cluster, failureDomain, Duration.ofSeconds(10),
                Duration.ofSeconds(10)), node, () -> new Capacity(GIB, GIB)));
        return node.nodeId();
    }

    /** Leaves the cluster: the node's lease is revoked, so its member key is gone at once. */
    private void stop(String nodeId) {
        Cluster node = nodes.stream().filter(n -> n.self().nodeId().equals(nodeId)).findFirst().orElseThrow();
        node.close();
        nodes.remove(node);
    }

    private VolumeRecords.Stored current() throws Exception {
        return transactions.read(VOLUME).orElseThrow();
    }

    private void assertUnchanged(VolumeRecords.Stored before) throws Exception {
        VolumeRecords.Stored now = current();
        assertEquals(before.modRevision(), now.modRevision(), "the record was changed");
        assertArrayEquals(before.json(), now.json());
        assertNotEquals(0, now.modRevision());
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
