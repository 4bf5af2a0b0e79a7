package io.basalt.service.guest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.cluster.etcd.EtcdProcess;
import io.basalt.service.replication.ReplicaRoles;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.GetResponse;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11's failover under load with a real kernel host: a cluster of three Basalt nodes, each a
 * separate OS process in a failure domain of its own, on Debian's etcd (lease TTL 3 s); a 3-copy volume
 * created through one node's API; the QEMU guest (Debian 12's kernel, native NVMe multipath) connects to
 * every portal of the volume and must see one namespace with three paths, one optimized. It runs fio
 * random writes with verification for the whole test while this test, on the guest's requests, kills a
 * secondary's node with {@code kill -9}, restarts it, kills the primary's, restarts it, and kills the
 * new primary's. fio must see no error; the guest measures the longest gap between I/O completions after
 * each kill and prints it ({@code BASALT-IO-PAUSE}). The guest side is
 * {@code src/test/resources/guest/failover-host-test.sh}.
 *
 * <p>A killed secondary leaves the in-sync set (a new generation in etcd), a killed primary is replaced
 * by a promoted secondary (a new generation). A restarted copy must be in sync again, caught up by the
 * primary with the blocks written while it was out: no more than the blocks of the region fio writes
 * (the other half of the volume is written once before the load and verified at the end; a whole copy
 * would send both).
 *
 * <p>Run under {@code flock /tmp/basalt-e2e.lock}: {@code mvn -pl storage-service -am test
 * -Dtest=KernelFailoverTest -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("guest")
class KernelFailoverTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CLUSTER = "guestfail";
    private static final String ADMIN_TOKEN = "failover-admin-token-0123456789";
    private static final int BLOCK = 4096;
    private static final long VOLUME_BYTES = 64L << 20;
    /** fio keeps writing the first half of the volume; the second half is written once before. */
    private static final int LOAD_MB = 32;
    private static final Duration GUEST_BUDGET = Duration.ofMinutes(25);
    private static final Duration RECORD_WAIT = Duration.ofSeconds(180);
    private static final Pattern IO_PAUSE = Pattern.compile("BASALT-IO-PAUSE (\\S+) (\\d+)");
    private static final String REJOIN_BLOCKS = "basalt_replication_rejoin_blocks_copied_total";

    @Test
    @Timeout(value = 35, unit = TimeUnit.MINUTES)
    void copiesKilledUnderLoadCauseNoIoErrorAndCatchUpWithTheChangedBlocksOnly() throws Exception {
        Path work = Path.of("target", "guest-work", "kernel-failover-" + System.currentTimeMillis()).toAbsolutePath();
        String hostId = UUID.randomUUID().toString();
        String hostNqn = QemuGuest.hostNqn(hostId);
        QemuGuest.baseGuest(); // build (or find) the guest before starting anything else

        Map<String, ServiceProcess> nodes = new LinkedHashMap<>();
        QemuGuest guest = null;
        boolean passed = false;
        try (EtcdProcess etcd = EtcdProcess.start();
             Client etcdClient = Client.builder().endpoints(etcd.endpoints().toArray(URI[]::new)).build()) {
            try {
                for (String name : List.of("a", "b", "c")) {
                    ServiceProcess node = startNode(work.resolve("node-" + name), "rack-" + name, etcd.clientUrl());
                    nodes.put(nodeId(node), node);
                }
                for (ServiceProcess node : nodes.values()) {
                    awaitLiveNodes(node, 3);
                }
                ServiceProcess first = nodes.values().iterator().next();
                String id = createVolume(first, hostNqn).path("id").asText();
                // On a loaded machine a 3 s lease can expire while the volume is made, and a copy is promoted
                // or left out before the guest comes (seen once): start from every copy in sync, whoever leads.
                JsonNode record = awaitRecord(etcdClient, id, r -> ReplicaRoles.inSync(r).size() == 3);
                List<String> copies = ReplicaRoles.nodeIds(record);
                assertEquals(3, copies.size(), "three copies: " + record);
                assertEquals(3, ReplicaRoles.inSync(record).size(), "every copy in sync at first: " + record);
                JsonNode volume = volume(first, id);
                List<Integer> portals = new ArrayList<>();
                volume.path("portals").forEach(p -> portals.add(p.path("port").asInt()));
                assertEquals(nodes.get(ReplicaRoles.primary(record)).nvmePort(), portals.getFirst(),
                        "the primary's portal comes first: " + volume);
                assertEquals(3, portals.size(), "a portal on every copy's node: " + volume);
                System.out.printf("[test] volume %s: copies %s, primary %s%n", id, copies, ReplicaRoles.primary(record));

                guest = QemuGuest.named("kernel-failover")
                        .script(KernelHostTest.resource("/guest/failover-host-test.sh"))
                        .param("HOSTNQN", hostNqn)
                        .param("HOSTID", hostId)
                        .param("TARGET_ADDR", "10.0.2.2")
                        .param("NVME_PORTS", String.join(" ", portals.stream().map(String::valueOf).toList()))
                        .param("SUBNQN", volume.path("nqn").asText())
                        .param("VOL_UUID", volume.path("uuid").asText())
                        .param("LOAD_MB", LOAD_MB)
                        .param("FIO_SECS", Integer.getInteger("basalt.guest.failoverFioSecs", 240))
                        .param("REQUESTS", "kill-secondary restart-killed kill-primary restart-killed kill-primary")
                        .workDir(work)
                        .boot();

                String[] killed = {null};
                boolean[] killedWasPrimary = {false};
                // blocks the primary sent a restarted copy to bring it in sync: a secondary's, an old primary's
                List<Long> rejoinBlocks = new ArrayList<>();
                Map<String, QemuGuest.HostAction> actions = new LinkedHashMap<>();
                actions.put("kill-secondary", () -> {
                    JsonNode before = record(etcdClient, id);
                    List<String> inSync = ReplicaRoles.inSync(before);
                    killed[0] = inSync.getLast();
                    killedWasPrimary[0] = false;
                    assertTrue(!killed[0].equals(ReplicaRoles.primary(before)), "a secondary to kill: " + before);
                    long killedAt = System.nanoTime();
                    nodes.get(killed[0]).kill9();
                    JsonNode left = awaitRecord(etcdClient, id, r -> !ReplicaRoles.inSync(r).contains(killed[0]));
                    assertTrue(left.path("generation").asLong() > before.path("generation").asLong(),
                            "leaving the in-sync set bumped the generation: " + left);
                    System.out.printf("[test] the killed secondary %s was out of the in-sync set %d ms after kill -9%n",
                            killed[0], TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt));
                });
                actions.put("kill-primary", () -> {
                    JsonNode before = record(etcdClient, id);
                    killed[0] = ReplicaRoles.primary(before);
                    killedWasPrimary[0] = true;
                    long killedAt = System.nanoTime();
                    nodes.get(killed[0]).kill9();
                    JsonNode promoted = awaitRecord(etcdClient, id, r -> !killed[0].equals(ReplicaRoles.primary(r)));
                    assertTrue(promoted.path("generation").asLong() > before.path("generation").asLong(),
                            "the promotion bumped the generation: " + promoted);
                    System.out.printf("[test] the killed primary %s was replaced by %s %d ms after kill -9%n", killed[0],
                            ReplicaRoles.primary(promoted), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt));
                });
                actions.put("restart-killed", () -> {
                    ServiceProcess primary = nodes.get(ReplicaRoles.primary(record(etcdClient, id)));
                    double before = primary.metric(REJOIN_BLOCKS);
                    long restartedAt = System.nanoTime();
                    nodes.get(killed[0]).start();
                    JsonNode back = awaitRecord(etcdClient, id, r -> ReplicaRoles.inSync(r).size() == 3);
                    assertEquals(3, ReplicaRoles.inSync(back).size(), "the restarted copy is in sync again: " + back);
                    long sent = (long) (primary.metric(REJOIN_BLOCKS) - before);
                    rejoinBlocks.add(sent);
                    System.out.printf("[test] the restarted %s (%s) was in sync %d ms after its start; the primary "
                            + "sent it %d blocks%n", killed[0], killedWasPrimary[0] ? "an old primary" : "a secondary",
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedAt), sent);
                    if (killed[0].equals(ReplicaRoles.nodeIds(back).getFirst())) {
                        // The preferred copy (where placement put the primary) gets the volume back: failback,
                        // while fio writes; the next kill is of the primary it makes.
                        JsonNode givenBack = awaitRecord(etcdClient, id, r -> killed[0].equals(ReplicaRoles.primary(r)));
                        assertEquals(killed[0], ReplicaRoles.primary(givenBack), "failback: " + givenBack);
                        System.out.printf("[test] failback: %s was the primary again %d ms after its start%n", killed[0],
                                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedAt));
                    }
                });

                int rc = guest.serveRequests(actions, GUEST_BUDGET);
                String reason = guest.failureReason();
                assertEquals(0, rc, "the guest's failover test failed: " + (reason != null ? reason : "exit code " + rc));
                assertTrue(guest.consoleLog().contains("BASALT-TEST-PASS"), "the guest script did not finish");
                Matcher pause = IO_PAUSE.matcher(guest.consoleLog());
                assertTrue(pause.find(), "the guest measured no I/O pause");
                do {
                    System.out.printf("[test] I/O paused at most %s ms after %s (the longest gap between fio's "
                            + "completions until the next request, at most a minute)%n", pause.group(2), pause.group(1));
                } while (pause.find());
                long loadBlocks = ((long) LOAD_MB << 20) / BLOCK;
                assertEquals(2, rejoinBlocks.size(), "both restarted copies caught up");
                for (int i = 0; i < 2; i++) {
                    long sent = rejoinBlocks.get(i);
                    // The old primary's copy is compared whole (its last writes may have reached it only), and
                    // only what differs is written: shown failing (16,384 blocks, the whole volume) before
                    // CatchUp compared a copy whose contents the new primary does not know.
                    assertTrue(sent > 0 && sent <= loadBlocks, (i == 0 ? "the secondary's" : "the old primary's")
                            + " catch-up sent " + sent + " blocks: some, and only of the " + loadBlocks
                            + " the load writes, not the whole volume's " + VOLUME_BYTES / BLOCK);
                }
                passed = true;
            } finally {
                // the nodes leave the cluster while etcd still runs
                QemuGuest.closeAfterTest(guest, nodes.values(), passed);
            }
        } finally {
            if (passed) {
                ServiceProcess.deleteTree(work);
            }
        }
    }

    /** A node in failure domain {@code domain} of the test's cluster, with a 3-second lease (the least). */
    private static ServiceProcess startNode(Path dir, String domain, URI etcd) throws Exception {
        return ServiceProcess.start(dir, "--engine.drive-size=512MiB", "--engine.segment-size=2MiB",
                "--cluster.etcd-endpoints=" + etcd, "--cluster.name=" + CLUSTER, "--cluster.failure-domain=" + domain,
                "--cluster.lease-ttl-seconds=3", "--cluster.capacity-refresh-seconds=1",
                "--api.admin-token=" + ADMIN_TOKEN);
    }

    private static String nodeId(ServiceProcess node) throws Exception {
        return cluster(node).path("nodeId").asText();
    }

    /** GET /api/v1/cluster once the node has joined (it answers 503 while joining), within 60 s. */
    private static JsonNode cluster(ServiceProcess node) throws Exception {
        HttpResponse<String> r = null;
        for (int attempt = 0; attempt < 300; attempt++) {
            r = node.get("/api/v1/cluster");
            if (r.statusCode() != 503) {
                break;
            }
            Thread.sleep(200);
        }
        assertEquals(200, r.statusCode(), "GET /api/v1/cluster -> " + r.body());
        return JSON.readTree(r.body());
    }

    private static void awaitLiveNodes(ServiceProcess node, int live) throws Exception {
        JsonNode last = null;
        for (int attempt = 0; attempt < 600; attempt++) {
            last = cluster(node);
            if (last.path("liveNodes").asInt() == live) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("node " + node.apiPort() + " never saw " + live + " live nodes: " + last);
    }

    private static JsonNode createVolume(ServiceProcess node, String hostNqn) throws Exception {
        Map<String, Object> body = Map.of("name", "failover", "sizeBytes", VOLUME_BYTES, "replicas", 3,
                "hosts", List.of(hostNqn));
        HttpResponse<String> r = node.sendJson("POST", "/api/v1/volumes", JSON.writeValueAsString(body));
        assertEquals(201, r.statusCode(), "POST /api/v1/volumes " + body + " -> " + r.body());
        return JSON.readTree(r.body());
    }

    /** The volume as the node's API shows it. */
    private static JsonNode volume(ServiceProcess node, String id) throws Exception {
        HttpResponse<String> r = node.get("/api/v1/volumes/" + id);
        assertEquals(200, r.statusCode(), "GET /api/v1/volumes/" + id + " -> " + r.body());
        return JSON.readTree(r.body());
    }

    private static JsonNode record(Client etcd, String volumeId) throws Exception {
        GetResponse got = etcd.getKVClient().get(ByteSequence.from("/basalt/" + CLUSTER + "/volumes/" + volumeId, UTF_8))
                .get(10, TimeUnit.SECONDS);
        assertEquals(1, got.getKvs().size(), "the record of volume " + volumeId + " is in etcd");
        return JSON.readTree(got.getKvs().getFirst().getValue().getBytes());
    }

    /** The volume's record once it is as {@code expected} says; fails after {@link #RECORD_WAIT}. */
    private static JsonNode awaitRecord(Client etcd, String volumeId, Predicate<JsonNode> expected) throws Exception {
        long deadline = System.nanoTime() + RECORD_WAIT.toNanos();
        JsonNode last;
        do {
            last = record(etcd, volumeId);
            if (expected.test(last)) {
                return last;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("the record of volume " + volumeId + " did not become as expected within "
                + RECORD_WAIT.toSeconds() + " s: " + last);
    }
}
