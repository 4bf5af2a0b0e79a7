package io.basalt.service.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.cluster.etcd.ClusterKeys;
import io.basalt.cluster.membership.ClusterSecret;
import io.basalt.cluster.etcd.EtcdProcess;
import io.basalt.cluster.etcd.PausableProxy;
import io.basalt.cluster.volumes.VolumeTransactions;
import io.basalt.nvmetcp.host.AnaLog;
import io.basalt.nvmetcp.host.DiscoveryLogEntry;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.NamespaceIdentifiers;
import io.basalt.nvmetcp.host.NamespaceInfo;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.NvmeAuthenticationException;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.service.StorageNode;
import io.basalt.service.config.ConfigLoader;
import io.basalt.service.engine.IoResult;
import io.basalt.service.replication.RemoteReplica;
import io.basalt.service.replication.ReplicaSubsystem;
import io.basalt.service.volume.VolumeManager;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.GetResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.nio.NioEventLoopGroup;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replicated volumes in a cluster of three real nodes, one per failure domain, on a real etcd: every
 * node named in a volume's record makes its copy, the primary serves it to hosts and forwards their
 * writes to the secondaries, whose copies (read through their replica subsystems, which admit the
 * cluster's nodes only) hold the same bytes; an extend grows every copy and a delete removes every
 * copy; a secondary that stops in the middle of writes leaves the in-sync set while the writes go on,
 * and is brought back in sync when it returns.
 */
class ReplicatedVolumesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOST = "127.0.0.1";
    private static final String HOST_NQN = "nqn.2014-08.com.example:replicated-host";
    private static final int BLOCK = 4096;
    /** The event an ANA change notice completes an Asynchronous Event Request with: notice 03h, log page 0Ch. */
    private static final int ANA_CHANGE_EVENT = 0x2 | 0x03 << 8 | 0x0C << 16;
    private static ClusterTestApi api;
    private static NioEventLoopGroup hostGroup;

    @TempDir
    Path dir;
    private EtcdProcess etcd;
    private Client etcdClient;
    /** The nodes, by node id. */
    private final Map<String, StorageNode> nodes = new HashMap<>();
    /** The name (data directory, failure domain) of each node id, to restart it. */
    private final Map<String, String> names = new HashMap<>();
    private final List<StorageNode> started = new ArrayList<>();

    @BeforeAll
    static void client() {
        api = new ClusterTestApi();
        hostGroup = new NioEventLoopGroup(1);
    }

    @AfterAll
    static void closeClient() throws Exception {
        api.close();
        hostGroup.shutdownGracefully(0, 0, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
    }

    @BeforeEach
    void startCluster() throws Exception {
        etcd = EtcdProcess.start();
        etcdClient = Client.builder().endpoints(etcd.endpoints().toArray(URI[]::new)).build();
        for (String name : List.of("a", "b", "c")) {
            start(name);
        }
        for (StorageNode node : started) {
            api.awaitLiveNodes(node, 3);
        }
    }

    /** Node {@code name} on drive files in its own failure domain, so that it can restart. */
    private StorageNode start(String name) throws Exception {
        return start(name, etcd.clientUrl(), List.of());
    }

    /** Node {@code name}, reaching etcd at {@code etcdUrl}, with further arguments. */
    private StorageNode start(String name, URI etcdUrl, List<String> more) throws Exception {
        List<String> args = new ArrayList<>(ClusterTestApi.onDisk(ClusterTestApi.args(dir, name, "rack-" + name,
                "64MiB", etcdUrl)));
        args.addAll(more);
        StorageNode node = StorageNode.start(ConfigLoader.load(args, Map.of()));
        started.add(node);
        String nodeId = JSON.readTree(api.send(node, "GET", "/api/v1/cluster", null).bodyAsString()).get("nodeId")
                .asText();
        nodes.put(nodeId, node);
        names.put(nodeId, name);
        return node;
    }

    @AfterEach
    void stopCluster() throws Exception {
        started.forEach(StorageNode::close);
        if (etcdClient != null) {
            etcdClient.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    @Test
    void everyCopyHoldsWhatTheHostWroteGrowsWithTheVolumeAndGoesWithIt() throws Exception {
        for (int replicas : List.of(2, 3)) {
            StorageNode through = started.get(replicas - 2);
            HttpResponse<Buffer> created = api.send(through, "POST", "/api/v1/volumes", new JsonObject()
                    .put("name", "copies-" + replicas).put("sizeBytes", 8L << 20).put("replicas", replicas)
                    .put("hosts", List.of(HOST_NQN)));
            assertEquals(201, created.statusCode(), created.bodyAsString());
            JsonNode volume = JSON.readTree(created.bodyAsString());
            String id = volume.get("id").asText();
            assertTrue(volume.get("nsid").asInt() > 0, "answered once every copy reported: " + volume);
            JsonNode record = record(id);
            List<String> nodeIds = ids(record.get("nodeIds"));
            assertEquals(replicas, nodeIds.size(), record.toString());
            assertEquals(nodeIds, ids(record.get("inSync")), record.toString());
            StorageNode primary = nodes.get(nodeIds.getFirst());
            assertEquals(primary.nvmeAddress().getPort(), volume.get("portals").get(0).get("port").asInt(),
                    "hosts are sent to the primary: " + volume);
            for (String nodeId : nodeIds) {
                assertEquals(1, api.stats(nodes.get(nodeId)).get("volumes").asInt(), "every node named makes its copy");
            }
            JsonNode overview = JSON.readTree(api.send(through, "GET", "/api/v1/cluster", null).bodyAsString());
            assertEquals(replicas * (8L << 20), overview.get("provisionedBytes").asLong(),
                    "every copy takes the cluster's space: " + overview);

            byte[] image = new byte[(int) ((8L << 20))];
            HostController host = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                    primary.nvmeAddress().getPort(), volume.get("nqn").asText()).get(10, TimeUnit.SECONDS);
            int nsid = volume.get("nsid").asInt();
            try {
                Random random = new Random(replicas);
                for (int i = 0; i < 64; i++) {
                    write(host, nsid, random.nextInt(2048 - 8), 1 + random.nextInt(8), random, i % 4 == 0, image);
                }
                assertEquals(0, flush(host, nsid));
                assertArrayEquals(image, readAll(host, nsid, 2048), "the primary's copy");
                for (String secondary : nodeIds.subList(1, nodeIds.size())) {
                    assertArrayEquals(image, readCopy(id, secondary, 2048), "the copy on " + secondary);
                }

                HttpResponse<Buffer> extended = api.send(started.get(2), "PUT", "/api/v1/volumes/" + id,
                        new JsonObject().put("sizeBytes", 16L << 20));
                assertEquals(200, extended.statusCode(), extended.bodyAsString());
                assertEquals(16L << 20, host.identifyNamespace(nsid).get(10, TimeUnit.SECONDS).sizeBytes(),
                        "the primary's namespace grew before the extend answered");
                for (String secondary : nodeIds.subList(1, nodeIds.size())) {
                    assertEquals(16L << 20, copySize(id, secondary), "the copy on " + secondary + " grew first");
                }
                // An extend the copies' nodes refuse (past 10 times their 64 MiB) is undone on the record, as a
                // further generation that keeps the in-sync set, and no copy grew.
                long generationBefore = record(id).get("generation").asLong();
                HttpResponse<Buffer> tooLarge = api.send(started.get(2), "PUT", "/api/v1/volumes/" + id,
                        new JsonObject().put("sizeBytes", 1L << 30));
                assertEquals(507, tooLarge.statusCode(), tooLarge.bodyAsString());
                JsonNode undone = record(id);
                assertEquals(16L << 20, undone.get("sizeBytes").asLong(), undone.toString());
                assertEquals(generationBefore + 2, undone.get("generation").asLong(), undone.toString());
                assertEquals(nodeIds, ids(undone.get("inSync")), undone.toString());
                assertEquals(16L << 20, host.identifyNamespace(nsid).get(10, TimeUnit.SECONDS).sizeBytes());
                // A write into the new blocks reaches every copy.
                byte[] grown = new byte[(int) (16L << 20)];
                System.arraycopy(image, 0, grown, 0, image.length);
                write(host, nsid, 4000, 8, random, true, grown);
                for (String secondary : nodeIds.subList(1, nodeIds.size())) {
                    assertArrayEquals(grown, readCopy(id, secondary, 4096), "the copy on " + secondary);
                }
            } finally {
                host.closeAsync().get(10, TimeUnit.SECONDS);
            }

            String secondary = nodeIds.get(1);
            String replicaNqn = report(id, secondary).get("nqn").asText();
            HttpResponse<Buffer> deleted = api.send(started.get(1), "DELETE", "/api/v1/volumes/" + id, null);
            assertEquals(204, deleted.statusCode(), deleted.bodyAsString());
            for (String nodeId : nodeIds) {
                assertEquals(0, api.stats(nodes.get(nodeId)).get("volumes").asInt(),
                        "node " + nodeId + " removed its copy before the delete answered");
            }
            assertThrows(ExecutionException.class, () -> HostController.connect(hostGroup,
                    asNode(secondary), HOST, nodes.get(secondary).nvmeAddress()
                            .getPort(), replicaNqn).get(10, TimeUnit.SECONDS).closeAsync().get(10, TimeUnit.SECONDS),
                    "the replica subsystem went with the copy");
        }
    }

    /**
     * A node's host NQN is no secret (it is made of the node id, which the API shows): a host that
     * presents the primary's NQN reaches a secondary's copy only with the credentials derived from the
     * cluster's secret in etcd, not without credentials nor with those of another secret (shown failing
     * without {@code authenticateEveryHost} on the replica subsystem: the connect without credentials
     * succeeded and could have written the copy).
     */
    @Test
    void onlyAHostHoldingTheClusterSecretReachesACopy() throws Exception {
        JsonNode volume = createVolume("node-auth", 2);
        String id = volume.get("id").asText();
        List<String> nodeIds = ids(record(id).get("nodeIds"));
        String primary = nodeIds.get(0);
        String secondary = nodeIds.get(1);
        int port = nodes.get(secondary).nvmeAddress().getPort();
        String replicaNqn = report(id, secondary).get("nqn").asText();

        ExecutionException without = assertThrows(ExecutionException.class, () -> HostController.connect(hostGroup,
                HostOptions.defaults(VolumeCopies.hostNqn(primary)), HOST, port, replicaNqn).get(10, TimeUnit.SECONDS)
                .closeAsync().get(10, TimeUnit.SECONDS));
        assertInstanceOf(NvmeAuthenticationException.class, without.getCause(), without.toString());
        byte[] other = new byte[32];
        new Random(5).nextBytes(other);
        HostOptions forged = HostOptions.defaults(VolumeCopies.hostNqn(primary))
                .withDhchap(new NodeCredentials(new ClusterSecret(other)).of(VolumeCopies.hostNqn(primary)));
        ExecutionException wrong = assertThrows(ExecutionException.class, () -> HostController.connect(hostGroup,
                forged, HOST, port, replicaNqn).get(10, TimeUnit.SECONDS).closeAsync().get(10, TimeUnit.SECONDS));
        assertInstanceOf(NvmeAuthenticationException.class, wrong.getCause(), wrong.toString());

        HostController asPrimary = HostController.connect(hostGroup, asNode(primary), HOST, port, replicaNqn)
                .get(10, TimeUnit.SECONDS);
        try {
            assertEquals(8L << 20, asPrimary.identifyNamespace(ReplicaSubsystem.NSID).get(10, TimeUnit.SECONDS)
                    .sizeBytes());
        } finally {
            asPrimary.closeAsync().get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Snapshots of a replicated volume: asked for through a secondary's node while a host writes, the
     * snapshot is taken on every copy at one point of the writes (a volume made from it, whose copies are
     * made by each node from its own copy of the snapshot, is the same on every copy, and holds every block
     * written before); every node lists it; a revert to it makes every copy the snapshot again; a volume
     * made from the volume is the same on every copy (through a snapshot deleted once it is made); it survives the primary's loss (listed and made into a volume
     * by the promoted primary); it is refused while a copy is out of sync; deleting it removes it from every
     * copy, and a copy that was down when it was deleted removes it when back; the volume cannot be deleted
     * before its snapshots (409). Shown failing without the
     * writes parked while the copies take it (secondaries taking theirs as soon as they saw the record,
     * the clone's copies differed), without the secondaries' revert (their copies not reverted), without
     * the deletion's check (204: the volume went, its snapshots with it, unlisted on every copy), and,
     * before snapshots were built, with the snapshot refused (400).
     */
    @Test
    void aSnapshotIsTakenOnEveryCopyAtOnePointOfTheWritesRevertsEveryCopyAndIsDeletedFromEvery() throws Exception {
        JsonNode volume = createVolume("snapped", 3);
        String id = volume.get("id").asText();
        List<String> nodeIds = ids(record(id).get("nodeIds"));
        StorageNode primary = nodes.get(nodeIds.get(0));
        StorageNode secondary = nodes.get(nodeIds.get(1));
        int nsid = volume.get("nsid").asInt();
        byte[] image = new byte[(int) (8L << 20)];
        Random random = new Random(21);
        HostController host = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                primary.nvmeAddress().getPort(), volume.get("nqn").asText()).get(10, TimeUnit.SECONDS);
        HttpResponse<Buffer> snapshot;
        try {
            writeAndFlush(host, nsid, 50, random, 0, image); // within the first 1,024 blocks
            // A writer goes on over the second half while the snapshot is taken.
            java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
            CompletableFuture<Integer> writer = CompletableFuture.supplyAsync(() -> {
                int writes = 0;
                Random own = new Random(22);
                try {
                    while (writing.get()) {
                        write(host, nsid, 1024 + own.nextInt(1024 - 8), 1 + own.nextInt(8), own, false,
                                new byte[image.length]);
                        writes++;
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return writes;
            });
            Thread.sleep(200);
            snapshot = api.send(secondary, "POST", "/api/v1/snapshots",
                    new JsonObject().put("name", "snap").put("sourceVolumeId", id));
            Thread.sleep(200);
            writing.set(false);
            System.out.printf("%d writes while the snapshot was taken%n", writer.get(30, TimeUnit.SECONDS));
            assertEquals(201, snapshot.statusCode(), snapshot.bodyAsString());
            writeAndFlush(host, nsid, 50, random, 0, new byte[image.length]); // after the snapshot
        } finally {
            host.closeAsync().get(10, TimeUnit.SECONDS);
        }
        String snapshotId = JSON.readTree(snapshot.bodyAsString()).get("id").asText();
        for (StorageNode node : started) {
            api.awaitAnswer(node, "/api/v1/snapshots/" + snapshotId, answer -> answer.statusCode() == 200);
            JsonNode listed = JSON.readTree(api.send(node, "GET", "/api/v1/snapshots", null).bodyAsString())
                    .get("snapshots");
            assertEquals(1, listed.size(), "listed once by every node: " + listed);
            assertEquals(1, api.stats(node).get("snapshots").asInt(), "every copy holds the snapshot");
        }
        HttpResponse<Buffer> again = api.send(primary, "POST", "/api/v1/snapshots",
                new JsonObject().put("name", "snap").put("sourceVolumeId", id));
        assertEquals(200, again.statusCode(), "a retry answers the snapshot it made: " + again.bodyAsString());
        assertEquals(snapshotId, JSON.readTree(again.bodyAsString()).get("id").asText());

        byte[] snapped = assertEveryCopyOfACloneEqual(snapshotId, "clone", started.get(2), 3);
        assertArrayEquals(Arrays.copyOf(image, 1024 * BLOCK), Arrays.copyOf(snapped, 1024 * BLOCK),
                "the snapshot holds every block written before it was asked for");

        // Reverted through the third node: every copy is the snapshot again, and stays in sync for writes after.
        HttpResponse<Buffer> reverted = api.send(nodes.get(nodeIds.get(2)), "POST", "/api/v1/volumes/" + id + "/revert",
                new JsonObject().put("snapshotId", snapshotId));
        assertEquals(200, reverted.statusCode(), reverted.bodyAsString());
        assertEquals(nodeIds, ids(record(id).get("inSync")), "every copy reported the revert in time");
        byte[] after = snapped.clone();
        HostController writer = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                primary.nvmeAddress().getPort(), volume.get("nqn").asText()).get(10, TimeUnit.SECONDS);
        try {
            assertArrayEquals(snapped, readAll(writer, nsid, 2048), "the primary's copy, reverted");
            for (String copy : nodeIds.subList(1, 3)) {
                assertArrayEquals(snapped, readCopy(id, copy, 2048), "the copy on " + copy + ", reverted");
            }
            writeAndFlush(writer, nsid, 20, random, 0, after);
        } finally {
            writer.closeAsync().get(10, TimeUnit.SECONDS);
        }
        for (String copy : nodeIds.subList(1, 3)) {
            assertArrayEquals(after, readCopy(id, copy, 2048), "the copy on " + copy + " takes writes after the revert");
        }
        // A volume made from the volume itself, through a snapshot taken for it and deleted once every copy is made.
        assertArrayEquals(after, assertEveryCopyOfACloneEqual("sourceVolumeId", id, "from-volume", started.get(1), 3),
                "a volume made from the volume holds what it held");
        for (String nodeId : nodeIds) {
            assertEquals(1, api.stats(nodes.get(nodeId)).get("snapshots").asInt(), "the snapshot taken for it is gone");
        }

        // The primary stops: the promoted secondary lists the snapshot and makes a volume from it.
        nodes.get(nodeIds.get(0)).close();
        started.remove(primary);
        awaitRecord(id, r -> nodeIds.get(1).equals(r.path("primary").asText()));
        api.awaitAnswer(secondary, "/api/v1/snapshots/" + snapshotId, answer -> answer.statusCode() == 200);
        assertArrayEquals(snapped, assertEveryCopyOfACloneEqual(snapshotId, "after-failover", secondary, 2),
                "the snapshot, read after the failover");
        // With the old primary's copy out of sync, no snapshot can be taken on every copy.
        HttpResponse<Buffer> refused = api.send(secondary, "POST", "/api/v1/snapshots",
                new JsonObject().put("name", "while-out").put("sourceVolumeId", id));
        assertEquals(503, refused.statusCode(), refused.bodyAsString());
        assertTrue(refused.bodyAsString().contains("out of sync"), refused.bodyAsString());

        // Deleted while the old primary is down: the copies that are up delete theirs, it deletes its own when back.
        for (String clone : List.of("clone", "from-volume", "after-failover")) {
            JsonNode made = JSON.readTree(api.send(secondary, "GET", "/api/v1/volumes?name=" + clone, null)
                    .bodyAsString()).get("volumes").get(0);
            assertEquals(204, api.send(secondary, "DELETE", "/api/v1/volumes/" + made.get("id").asText(), null)
                    .statusCode());
        }
        // Its snapshots live in its record: the volume cannot go before them.
        HttpResponse<Buffer> kept = api.send(secondary, "DELETE", "/api/v1/volumes/" + id, null);
        assertEquals(409, kept.statusCode(), kept.bodyAsString());
        HttpResponse<Buffer> deleted = api.send(nodes.get(nodeIds.get(2)), "DELETE", "/api/v1/snapshots/" + snapshotId,
                null);
        assertEquals(204, deleted.statusCode(), deleted.bodyAsString());
        for (String nodeId : nodeIds.subList(1, 3)) {
            assertEquals(0, api.stats(nodes.get(nodeId)).get("snapshots").asInt(), "deleted from the copy on " + nodeId);
            assertEquals(404, api.send(nodes.get(nodeId), "GET", "/api/v1/snapshots/" + snapshotId, null).statusCode());
        }
        StorageNode back = start(names.get(nodeIds.get(0)));
        awaitRecord(id, r -> ids(r.get("inSync")).size() == 3);
        api.awaitAnswer(back, "/api/v1/stats", answer -> answer.bodyAsJsonObject().getInteger("snapshots") == 0);
        assertEquals(0, api.stats(back).get("snapshots").asInt(), "the old primary deleted its copy of the snapshot");
        assertEquals(204, api.send(back, "DELETE", "/api/v1/volumes/" + id, null).statusCode());
    }

    /**
     * All or nothing: a snapshot one copy refuses (its node has a single-copy volume's snapshot of that name,
     * which the cluster's records do not list) is removed from every copy that took it and from the record,
     * the API answers 503, and the volume's writes go on. Shown failing, 201 and the snapshot kept on the
     * primary, with the primary recording it taken whatever the secondaries reported.
     */
    @Test
    void aSnapshotACopyRefusesIsKeptByNone() throws Exception {
        JsonNode volume = createVolume("refused", 2);
        String id = volume.get("id").asText();
        List<String> nodeIds = ids(record(id).get("nodeIds"));
        StorageNode secondary = nodes.get(nodeIds.get(1));
        String single = UUID.randomUUID().toString();
        ObjectNode desire = JSON.createObjectNode().put("id", single).put("project", "default").put("name", "single")
                .put("sizeBytes", 8L << 20).put("replicas", 1).put("requireAuthentication", false)
                .put("uuid", UUID.randomUUID().toString()).put("nguid", "0123456789abcdef0123456789abcdef")
                .put("generation", 1);
        desire.putArray("nodeIds").add(nodeIds.get(1));
        desire.putArray("hosts");
        assertTrue(new VolumeTransactions(etcdClient, new ClusterKeys("test"), Duration.ofSeconds(5))
                .create(single, "default", "single", JSON.writeValueAsBytes(desire)));
        awaitEtcdValue("/basalt/test/volume-states/" + single, r -> r.path("nsid").asInt() > 0);
        HttpResponse<Buffer> own = api.send(secondary, "POST", "/api/v1/snapshots",
                new JsonObject().put("name", "taken").put("sourceVolumeId", single));
        assertEquals(201, own.statusCode(), own.bodyAsString());

        HttpResponse<Buffer> refused = api.send(nodes.get(nodeIds.get(0)), "POST", "/api/v1/snapshots",
                new JsonObject().put("name", "taken").put("sourceVolumeId", id));
        assertEquals(503, refused.statusCode(), refused.bodyAsString());
        assertTrue(refused.bodyAsString().contains("no copy keeps it"), refused.bodyAsString());
        assertEquals(0, record(id).get("snapshots").size(), "gone from the record: " + record(id));
        api.awaitAnswer(nodes.get(nodeIds.get(0)), "/api/v1/stats",
                answer -> answer.bodyAsJsonObject().getInteger("snapshots") == 0);
        assertEquals(1, api.stats(secondary).get("snapshots").asInt(), "the secondary keeps only its own");
        HostController host = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                nodes.get(nodeIds.get(0)).nvmeAddress().getPort(), volume.get("nqn").asText()).get(10, TimeUnit.SECONDS);
        try {
            writeAndFlush(host, volume.get("nsid").asInt(), 10, new Random(31), 2, new byte[(int) (8L << 20)]);
        } finally {
            host.closeAsync().get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * A snapshot a primary left half taken (recorded {@code TAKING}, as when it stops before the copies
     * reported) is removed from the record by the primary that finds it, and from every copy that took it.
     * Shown failing, the snapshot kept in the record, without the primary's removal.
     */
    @Test
    void aSnapshotLeftHalfTakenGoesFromEveryCopy() throws Exception {
        JsonNode volume = createVolume("half", 2);
        String id = volume.get("id").asText();
        recordSnapshot(id, "half", "TAKING");
        JsonNode cleaned = awaitRecord(id, r -> r.get("snapshots").isEmpty());
        assertEquals(0, cleaned.get("snapshots").size(), "removed from the record: " + cleaned);
        for (String nodeId : ids(cleaned.get("nodeIds"))) {
            api.awaitAnswer(nodes.get(nodeId), "/api/v1/stats",
                    answer -> answer.bodyAsJsonObject().getInteger("snapshots") == 0);
            assertEquals(0, api.stats(nodes.get(nodeId)).get("snapshots").asInt(), "gone from the copy on " + nodeId);
        }
    }

    /**
     * An extend is refused while a snapshot is being taken (copies that took it before and after the extend
     * would hold it at different sizes): a record asking for a snapshot that no primary takes (both copies'
     * nodes stopped) refuses it, saying why. Shown failing without the check (refused only because the
     * nodes are down).
     */
    @Test
    void anExtendWaitsForASnapshotBeingTaken() throws Exception {
        JsonNode volume = createVolume("busy", 2);
        String id = volume.get("id").asText();
        List<String> nodeIds = ids(record(id).get("nodeIds"));
        StorageNode third = started.stream().filter(n -> !nodeIds.contains(nodeIdOf(n))).findFirst().orElseThrow();
        nodes.get(nodeIds.get(1)).close();
        nodes.get(nodeIds.get(0)).close();
        recordSnapshot(id, "pending", "WANTED");
        HttpResponse<Buffer> extended = api.send(third, "PUT", "/api/v1/volumes/" + id,
                new JsonObject().put("sizeBytes", 16L << 20));
        assertEquals(503, extended.statusCode(), extended.bodyAsString());
        assertTrue(extended.bodyAsString().contains("while a snapshot of it is being taken"), extended.bodyAsString());
    }

    /**
     * Writes into the record of 8 MiB volume {@code volumeId} (of project default) one snapshot {@code name}
     * in {@code state}, as a new generation, as a primary or the API would leave it.
     */
    private void recordSnapshot(String volumeId, String name, String state) throws Exception {
        GetResponse got = etcdClient.getKVClient().get(ByteSequence.from("/basalt/test/volumes/" + volumeId, UTF_8))
                .get(10, TimeUnit.SECONDS);
        ObjectNode record = (ObjectNode) JSON.readTree(got.getKvs().getFirst().getValue().getBytes());
        record.put("generation", record.get("generation").asLong() + 1);
        record.putArray("snapshots").addObject().put("id", UUID.randomUUID().toString()).put("name", name)
                .put("sizeBytes", 8L << 20).put("createdAtMillis", System.currentTimeMillis()).put("state", state);
        String volumeName = record.get("name").asText();
        assertTrue(new VolumeTransactions(etcdClient, new ClusterKeys("test"), Duration.ofSeconds(5)).update(volumeId,
                got.getKvs().getFirst().getModRevision(), JSON.writeValueAsBytes(record), "default", volumeName,
                volumeName));
    }

    /**
     * Makes a volume of {@code replicas} copies from {@code snapshotId} through {@code through} and checks
     * every copy of it holds the same blocks (each was made by its node from its own copy of the snapshot);
     * those blocks.
     */
    private byte[] assertEveryCopyOfACloneEqual(String snapshotId, String name, StorageNode through, int replicas)
            throws Exception {
        return assertEveryCopyOfACloneEqual("sourceSnapshotId", snapshotId, name, through, replicas);
    }

    /** The same, made from the volume or snapshot {@code sourceId} named by the request's field {@code source}. */
    private byte[] assertEveryCopyOfACloneEqual(String source, String sourceId, String name, StorageNode through,
                                                int replicas) throws Exception {
        HttpResponse<Buffer> created = api.send(through, "POST", "/api/v1/volumes", new JsonObject()
                .put("name", name).put("sizeBytes", 0).put(source, sourceId)
                .put("replicas", replicas).put("hosts", List.of(HOST_NQN)));
        assertEquals(201, created.statusCode(), created.bodyAsString());
        JsonNode clone = JSON.readTree(created.bodyAsString());
        String cloneId = clone.get("id").asText();
        List<String> cloneNodes = ids(record(cloneId).get("nodeIds"));
        assertEquals(replicas, cloneNodes.size());
        HostController host = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                nodes.get(cloneNodes.getFirst()).nvmeAddress().getPort(), clone.get("nqn").asText())
                .get(10, TimeUnit.SECONDS);
        byte[] blocks;
        try {
            blocks = readAll(host, clone.get("nsid").asInt(), 2048);
        } finally {
            host.closeAsync().get(10, TimeUnit.SECONDS);
        }
        for (String copy : cloneNodes.subList(1, replicas)) {
            assertArrayEquals(blocks, readCopy(cloneId, copy, 2048), "the copy of " + name + " on " + copy);
        }
        return blocks;
    }

    /**
     * ANA multipath: every node holding a copy of a 3-copy volume shows it in the volume's one subsystem
     * (the API's nqn, NSID 1, same UUID and NGUID), with controller IDs that differ across the nodes; the
     * ANA log says optimized through the primary and inaccessible through the secondaries; a write through
     * a secondary's path gets ANA Inaccessible and changes no copy; the API's portals and the discovery
     * log of every node list every copy's portal, the primary's first. Shown failing without each part:
     * with the volume in the primary's node subsystem only, a connect to a secondary with the volume's NQN
     * was refused; with one target-wide cntlid counter, the three controllers got the same ID; without the
     * secondaries' paths set inaccessible, the write through a secondary was refused by its store only
     * (ANA Transition) and its log said optimized; with the primary's portal alone, discovery listed one.
     */
    @Test
    void everyCopyShowsTheVolumeInOneSubsystemOptimizedOnlyThroughThePrimary() throws Exception {
        JsonNode volume = createVolume("multipath", 3);
        String id = volume.get("id").asText();
        String nqn = volume.get("nqn").asText();
        assertEquals(VolumeManager.volumeNqn(id), nqn, volume.toString());
        assertEquals(1, volume.get("nsid").asInt(), volume.toString());
        List<String> nodeIds = ids(record(id).get("nodeIds"));
        List<Integer> ports = new ArrayList<>();
        volume.get("portals").forEach(p -> ports.add(p.get("port").asInt()));
        assertEquals(nodeIds.stream().map(n -> nodes.get(n).nvmeAddress().getPort()).toList(), ports,
                "every copy's portal, the primary's first: " + volume);

        List<HostController> paths = new ArrayList<>();
        try {
            for (String nodeId : nodeIds) {
                paths.add(HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                        nodes.get(nodeId).nvmeAddress().getPort(), nqn).get(10, TimeUnit.SECONDS));
            }
            for (HostController path : paths) {
                NamespaceIdentifiers ids = path.namespaceIdentifiers(1).get(10, TimeUnit.SECONDS);
                assertEquals(UUID.fromString(volume.get("uuid").asText()), ids.uuid());
                assertEquals(volume.get("nguid").asText(), HexFormat.of().formatHex(ids.nguid()));
                NamespaceInfo ns = path.identifyNamespace(1).get(10, TimeUnit.SECONDS);
                assertEquals(1, ns.anagrpid());
                assertEquals(1, ns.nmic() & 1, "NMIC: shared");
                assertEquals(paths.getFirst().info().serial(), path.info().serial(), "one subsystem");
            }
            assertEquals(3, paths.stream().map(HostController::cntlid).distinct().count(),
                    "controller IDs unique across the nodes: " + paths.stream().map(HostController::cntlid).toList());
            assertEquals(AnaLog.OPTIMIZED, paths.get(0).anaLog(false).get(10, TimeUnit.SECONDS).group(1).state());
            for (HostController secondary : paths.subList(1, paths.size())) {
                assertEquals(AnaLog.INACCESSIBLE, secondary.anaLog(false).get(10, TimeUnit.SECONDS).group(1).state());
            }

            byte[] image = new byte[(int) (8L << 20)];
            Random random = new Random(3);
            write(paths.getFirst(), 1, 0, 8, random, true, image);
            byte[] refused = new byte[8 * BLOCK];
            Arrays.fill(refused, (byte) 0x77);
            CompletableFuture<Integer> status = new CompletableFuture<>();
            paths.get(1).write(1, 0, 8, Unpooled.wrappedBuffer(refused), true, (s, result) -> status.complete(s));
            assertEquals(Status.ANA_INACCESSIBLE, (int) status.get(10, TimeUnit.SECONDS));
            assertArrayEquals(image, readAll(paths.getFirst(), 1, 2048), "the primary's copy is unchanged");
            for (String secondary : nodeIds.subList(1, nodeIds.size())) {
                assertArrayEquals(image, readCopy(id, secondary, 2048), "the copy on " + secondary + " is unchanged");
            }
        } finally {
            for (HostController path : paths) {
                path.closeAsync().get(10, TimeUnit.SECONDS);
            }
        }

        for (StorageNode node : started) {
            List<Integer> listed = HostController.discover(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                    node.discoveryAddress().getPort()).get(10, TimeUnit.SECONDS).stream()
                    .filter(e -> e.subnqn().equals(nqn)).map(DiscoveryLogEntry::port).sorted().toList();
            assertEquals(ports.stream().sorted().toList(), listed, "discovery of " + node.nvmeAddress());
        }
    }

    @Test
    void aSecondaryThatStopsInTheMiddleOfWritesLeavesTheInSyncSetWritesGoOnAndItRejoinsWhenBack() throws Exception {
        JsonNode volume = createVolume("three", 3);
        String id = volume.get("id").asText();
        int nsid = volume.get("nsid").asInt();
        JsonNode record = record(id);
        List<String> nodeIds = ids(record.get("nodeIds"));
        long generationBefore = record.get("generation").asLong();
        StorageNode primary = nodes.get(nodeIds.get(0));
        String stays = nodeIds.get(1);
        String stops = nodeIds.get(2);

        assertThrows(ExecutionException.class, () -> HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN),
                HOST, nodes.get(stays).nvmeAddress().getPort(), report(id, stays).get("nqn").asText())
                .get(10, TimeUnit.SECONDS).closeAsync().get(10, TimeUnit.SECONDS),
                "a host the volume allows cannot reach a secondary's copy: only the cluster's nodes may");

        byte[] image = new byte[(int) (8L << 20)];
        HostController host = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                primary.nvmeAddress().getPort(), volume.get("nqn").asText()).get(10, TimeUnit.SECONDS);
        try {
            Random random = new Random(7);
            for (int i = 0; i < 300; i++) {
                if (i == 100) {
                    // Flushed first: the writes the copy acknowledged before it stops are durable there, so
                    // its rejoin needs only what it missed (else also every region written since its last
                    // flush, which a power cut could have taken: ReplicatedStore's UnflushedRegions).
                    assertEquals(0, flush(host, nsid));
                    nodes.get(stops).close();
                }
                // Once it is gone, writes land in the first 2 of the volume's 8 regions only (256 blocks each).
                int range = i < 100 ? 2048 : 512;
                write(host, nsid, random.nextInt(range - 8), 1 + random.nextInt(8), random, i % 10 == 0, image);
            }
            assertEquals(0, flush(host, nsid));
            JsonNode after = record(id);
            assertEquals(List.of(nodeIds.get(0), stays), ids(after.get("inSync")), after.toString());
            assertTrue(after.get("generation").asLong() > generationBefore, "leaving bumped the generation: " + after);
            assertArrayEquals(image, readCopy(id, stays, 2048), "the copy that stayed has every write");
            assertArrayEquals(image, readAll(host, nsid, 2048), "the primary's copy");
        } finally {
            host.closeAsync().get(10, TimeUnit.SECONDS);
        }
        // Without the check, the extend was made (200) while the copy that left kept its size and dirty map.
        HttpResponse<Buffer> extended = api.send(primary, "PUT", "/api/v1/volumes/" + id,
                new JsonObject().put("sizeBytes", 16L << 20));
        assertEquals(503, extended.statusCode(), extended.bodyAsString());
        assertTrue(extended.bodyAsString().contains("out of sync"), extended.bodyAsString());

        // A field another writer owns (as a newer node's would be) and the in-sync set survive an API change:
        // when the API wrote only the fields it knew, the change dropped both (shown failing so).
        ObjectNode withForeignField = (ObjectNode) record(id);
        withForeignField.put("fieldOfANewerNode", 42);
        etcdClient.getKVClient().put(ByteSequence.from("/basalt/test/volumes/" + id, UTF_8),
                ByteSequence.from(JSON.writeValueAsBytes(withForeignField))).get(10, TimeUnit.SECONDS);
        String anotherHost = "nqn.2014-08.com.example:another-host";
        HttpResponse<Buffer> hostAdded = api.send(nodes.get(stays), "POST", "/api/v1/volumes/" + id + "/hosts",
                new JsonObject().put("hostNqn", anotherHost));
        assertEquals(200, hostAdded.statusCode(), hostAdded.bodyAsString());
        JsonNode afterChange = record(id);
        assertEquals(List.of(HOST_NQN, anotherHost), ids(afterChange.get("hosts")), afterChange.toString());
        assertEquals(List.of(nodeIds.get(0), stays), ids(afterChange.get("inSync")), afterChange.toString());
        assertEquals(42, afterChange.path("fieldOfANewerNode").asInt(), afterChange.toString());

        // Back, the secondary serves its copy again and its primary brings it in sync with what it missed.
        start(names.get(stops));
        JsonNode rejoined = awaitRecord(id, r -> ids(r.get("inSync")).size() == 3);
        assertEquals(nodeIds, ids(rejoined.get("inSync")), rejoined.toString());
        assertTrue(rejoined.get("generation").asLong() > afterChange.get("generation").asLong(), rejoined.toString());
        assertArrayEquals(image, readCopy(id, stops, 2048), "the copy that came back has every write it missed");
        assertEquals(512, metric(primary, "basalt_replication_rejoin_blocks_copied_total"),
                "only the 2 regions written while it was out were copied");
        HttpResponse<Buffer> extendedNow = api.send(primary, "PUT", "/api/v1/volumes/" + id,
                new JsonObject().put("sizeBytes", 16L << 20));
        assertEquals(200, extendedNow.statusCode(), "every copy is in sync again: " + extendedNow.bodyAsString());
        assertEquals(16L << 20, copySize(id, stops));
    }

    private static double metric(StorageNode node, String name) throws Exception {
        String served = api.send(node, "GET", "/metrics", null).bodyAsString();
        return served.lines().filter(line -> line.startsWith(name + " ")).mapToDouble(
                line -> Double.parseDouble(line.substring(name.length() + 1))).findFirst().orElse(-1);
    }

    /** The volume's record once it is as {@code expected} says (the primary's rejoin takes its time). */
    private JsonNode awaitRecord(String volumeId, Predicate<JsonNode> expected) throws Exception {
        return awaitEtcdValue("/basalt/test/volumes/" + volumeId, expected);
    }

    /** The value of {@code key} once it is there and as {@code expected} says, or as it is after 30 s. */
    private JsonNode awaitEtcdValue(String key, Predicate<JsonNode> expected) throws Exception {
        JsonNode value = null;
        for (int attempt = 0; attempt < 300; attempt++) {
            GetResponse got = etcdClient.getKVClient().get(ByteSequence.from(key, UTF_8)).get(10, TimeUnit.SECONDS);
            value = got.getKvs().isEmpty() ? null : JSON.readTree(got.getKvs().getFirst().getValue().getBytes());
            if (value != null && expected.test(value)) {
                return value;
            }
            Thread.sleep(100);
        }
        assertTrue(value != null, key + " is in etcd");
        return value;
    }

    @Test
    void aPrimaryThatRestartsWithItsSecondaryServesTheVolumeAgainOverItsCopies() throws Exception {
        JsonNode volume = createVolume("two", 2);
        String id = volume.get("id").asText();
        int nsid = volume.get("nsid").asInt();
        List<String> nodeIds = ids(record(id).get("nodeIds"));
        String secondary = nodeIds.get(1);
        byte[] image = new byte[(int) (8L << 20)];
        Random random = new Random(3);
        HostController host = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                nodes.get(nodeIds.get(0)).nvmeAddress().getPort(), volume.get("nqn").asText()).get(10, TimeUnit.SECONDS);
        try {
            writeAndFlush(host, nsid, 50, random, 0, image);
        } finally {
            host.closeAsync().get(10, TimeUnit.SECONDS);
        }

        // Both nodes stop, the secondary first, and the primary restarts first: no copy could take over
        // (a secondary live while its primary is down would be promoted).
        nodes.get(secondary).close();
        nodes.get(nodeIds.get(0)).close();
        StorageNode primary = start(names.get(nodeIds.get(0)));
        start(names.get(secondary));
        // Its copy is not shown to hosts until it serves it over the secondary's again. When the node showed
        // every volume of its registry at start, hosts wrote to the primary's copy alone (shown failing so).
        HostController again = null;
        for (int attempt = 0; attempt < 100 && again == null; attempt++) {
            try {
                again = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                        primary.nvmeAddress().getPort(), volume.get("nqn").asText()).get(10, TimeUnit.SECONDS);
            } catch (ExecutionException notYet) {
                Thread.sleep(100);
            }
        }
        assertTrue(again != null, "the restarted primary serves the volume again");
        try {
            assertArrayEquals(image, readAll(again, nsid, 2048), "the primary's copy after its restart");
            writeAndFlush(again, nsid, 50, random, 5, image);
        } finally {
            again.closeAsync().get(10, TimeUnit.SECONDS);
        }
        assertArrayEquals(image, readCopy(id, secondary, 2048), "writes after the restart reach the secondary too");
        assertEquals(nodeIds, ids(record(id).get("inSync")));
    }

    @Test
    void aSecondaryDownBeforeItMadeItsCopyIsLeftOutThenCopiedWholeWhenItComesBack() throws Exception {
        String primaryId = nodeIdOf(started.get(0));
        String secondaryId = nodeIdOf(started.get(1));
        nodes.get(secondaryId).close();
        api.awaitLiveNodes(started.get(0), 2);
        // The record as the API writes it, placed on a node that went down before it made its copy.
        String id = createRecord("late", primaryId, secondaryId);

        // Without the bounded wait, the primary waited for the secondary's report for ever and served nothing.
        JsonNode served = awaitRecord(id, r -> ids(r.get("inSync")).size() == 1);
        assertEquals(List.of(primaryId), ids(served.get("inSync")), "left out after the wait: " + served);
        JsonNode primaryReport = awaitEtcdValue("/basalt/test/volume-states/" + id, r -> r.path("nsid").asInt() > 0);
        byte[] image = new byte[(int) (8L << 20)];
        HostController host = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                nodes.get(primaryId).nvmeAddress().getPort(), primaryReport.get("nqn").asText())
                .get(10, TimeUnit.SECONDS);
        int nsid = primaryReport.get("nsid").asInt();
        try {
            Random random = new Random(5);
            for (int i = 0; i < 40; i++) {
                write(host, nsid, random.nextInt(2048 - 8), 1 + random.nextInt(8), random, false, image);
            }
            assertEquals(0, flush(host, nsid));
        } finally {
            host.closeAsync().get(10, TimeUnit.SECONDS);
        }

        start(names.get(secondaryId));
        JsonNode rejoined = awaitRecord(id, r -> ids(r.get("inSync")).size() == 2);
        assertEquals(List.of(primaryId, secondaryId), ids(rejoined.get("inSync")), rejoined.toString());
        assertArrayEquals(image, readCopy(id, secondaryId, 2048), "the copy made late holds every write");
    }

    /**
     * The primary node of a 3-copy volume stops (a clean stop: its lease is revoked, so the promotion need
     * not wait for a TTL; the fixture has no abrupt kill): the first in-sync secondary makes itself the
     * primary, the other refuses a write at the old generation, hosts reach the volume at the new
     * primary's portal with every acknowledged block, writes go on, and the old primary, back, is brought
     * in sync as the new primary's secondary. A host connected beforehand to the new primary's path
     * (inaccessible then) is told of the ANA change and writes through that same path once it is optimized
     * (shown failing with a primary's path never set optimized: the host's first write got ANA
     * Inaccessible). Without the
     * node's promotion trigger ({@code VolumePromotions}) the record never named another primary (shown
     * failing so).
     */
    @Test
    void aSecondaryTakesOverFromAPrimaryThatStopsAndTheOldPrimaryComesBackAsItsSecondary() throws Exception {
        JsonNode volume = createVolume("failover", 3);
        String id = volume.get("id").asText();
        List<String> nodeIds = ids(record(id).get("nodeIds"));
        String oldPrimary = nodeIds.get(0);
        String newPrimary = nodeIds.get(1);
        String other = nodeIds.get(2);
        byte[] image = new byte[(int) (8L << 20)];
        Random random = new Random(11);
        HostController host = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                nodes.get(oldPrimary).nvmeAddress().getPort(), volume.get("nqn").asText()).get(10, TimeUnit.SECONDS);
        try {
            writeAndFlush(host, volume.get("nsid").asInt(), 50, random, 0, image);
        } finally {
            host.closeAsync().get(10, TimeUnit.SECONDS);
        }
        HostController standby = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                nodes.get(newPrimary).nvmeAddress().getPort(), volume.get("nqn").asText()).get(10, TimeUnit.SECONDS);
        CompletableFuture<Integer> anaChange;
        try {
            assertEquals(AnaLog.INACCESSIBLE, standby.anaLog(false).get(10, TimeUnit.SECONDS).group(1).state());
            anaChange = standby.asyncEventRequest();
        } catch (Exception | AssertionError e) {
            standby.closeAsync().get(10, TimeUnit.SECONDS);
            throw e;
        }

        long stopped = System.nanoTime();
        nodes.get(oldPrimary).close();
        JsonNode promoted = awaitRecord(id, r -> newPrimary.equals(r.path("primary").asText()));
        assertEquals(newPrimary, promoted.path("primary").asText(), "promoted: " + promoted);
        System.out.printf("promotion committed %d ms after the primary stopped%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped));
        assertEquals(List.of(newPrimary, other), ids(promoted.get("inSync")), promoted.toString());
        long generation = promoted.get("generation").asLong();
        JsonNode served = awaitEtcdValue("/basalt/test/volume-states/" + id, r -> newPrimary.equals(
                r.path("nodeId").asText()) && r.path("generation").asLong() >= generation && r.path("nsid").asInt() > 0);
        assertEquals(newPrimary, served.path("nodeId").asText(), "the new primary serves the volume: " + served);
        // Before the new primary forwarded anything, the other secondary refuses a write at the old
        // generation, as the old primary would send it (shown failing, OK, without the fence raised from etcd).
        awaitEtcdValue("/basalt/test/volume-states/" + id + "@" + other, r -> r.path("generation").asLong() >= generation);
        RemoteReplica stale = RemoteReplica.connect(oldPrimary, hostGroup, asNode(oldPrimary), HOST, nodes.get(other).nvmeAddress().getPort(),
                report(id, other).get("nqn").asText(), generation - 1).get(10, TimeUnit.SECONDS);
        try {
            CompletableFuture<IoResult> refused = new CompletableFuture<>();
            stale.write(0, 1, Unpooled.wrappedBuffer(image, 0, BLOCK), false, refused::complete);
            assertNotEquals(IoResult.OK, refused.get(10, TimeUnit.SECONDS));
        } finally {
            stale.close();
        }
        System.out.printf("the new primary served the volume %d ms after the primary stopped%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped));
        try {
            assertEquals(ANA_CHANGE_EVENT, (int) anaChange.get(10, TimeUnit.SECONDS), "notice, ANA change, log page 0Ch");
            assertEquals(AnaLog.OPTIMIZED, standby.anaLog(false).get(10, TimeUnit.SECONDS).group(1).state());
            writeAndFlush(standby, 1, 10, random, 2, image);
        } finally {
            standby.closeAsync().get(10, TimeUnit.SECONDS);
        }
        StorageNode serving = nodes.get(newPrimary);
        api.awaitAnswer(serving, "/api/v1/volumes/" + id, answer -> answer.statusCode() == 200
                && answer.bodyAsJsonObject().getJsonArray("portals").getJsonObject(0).getInteger("port")
                == serving.nvmeAddress().getPort());

        int nsid = served.get("nsid").asInt();
        HostController again = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                serving.nvmeAddress().getPort(), served.get("nqn").asText()).get(10, TimeUnit.SECONDS);
        try {
            assertArrayEquals(image, readAll(again, nsid, 2048), "every acknowledged block, from the new primary");
            writeAndFlush(again, nsid, 50, random, 5, image);
        } finally {
            again.closeAsync().get(10, TimeUnit.SECONDS);
        }

        start(names.get(oldPrimary));
        JsonNode rejoined = awaitRecord(id, r -> ids(r.get("inSync")).size() == nodeIds.size());
        assertEquals(nodeIds, ids(rejoined.get("inSync")), "in the order of nodeIds: " + rejoined);
        assertArrayEquals(image, readCopy(id, other, 2048), "the other secondary's copy");

        // Failback: in sync again, the preferred copy gets the volume back from the new primary, with every
        // copy still in sync and one more generation (shown failing, the record still naming the new primary,
        // without VolumeCopies#giveBack called).
        JsonNode givenBack = awaitRecord(id, r -> oldPrimary.equals(r.path("primary").asText()));
        assertEquals(oldPrimary, givenBack.path("primary").asText(), "failback: " + givenBack);
        assertEquals(nodeIds, ids(givenBack.get("inSync")), givenBack.toString());
        assertTrue(givenBack.get("generation").asLong() >= generation + 2, "the rejoin and the failback each add "
                + "a generation to the promotion's " + generation + ": " + givenBack);
        HostController back = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                nodes.get(oldPrimary).nvmeAddress().getPort(), volume.get("nqn").asText()).get(10, TimeUnit.SECONDS);
        try {
            awaitWriteStatus(back, 1, Status.SUCCESS);
            System.arraycopy(new byte[BLOCK], 0, image, 0, BLOCK); // the probe wrote zeroes to block 0
            assertArrayEquals(image, readAll(back, 1, 2048), "every acknowledged block, from the preferred copy again");
            writeAndFlush(back, 1, 20, random, 5, image);
        } finally {
            back.closeAsync().get(10, TimeUnit.SECONDS);
        }
        assertArrayEquals(image, readCopy(id, newPrimary, 2048), "the copy that gave the volume back, a secondary again");
        assertArrayEquals(image, readCopy(id, other, 2048), "the other secondary's copy");
    }

    /**
     * Split brain in the nodes: the primary, restarted to reach etcd through a TCP proxy with a lease TTL of
     * 3 s, is cut off from etcd while a host still reaches it. Its in-sync secondary makes itself the
     * primary once the lease has expired; the host's writes to the old primary fail from then on, and the
     * new primary serves every acknowledged block. Back in touch with etcd, the old primary stops serving
     * hosts, serves its copy as a secondary and is brought back in sync by the new primary. Shown failing
     * without the step-down (the deposed primary kept serving: the host's write got Write Fault, not
     * ANA Inaccessible), without the fence check (the path stayed optimized while the fence was down),
     * and without the volumes looked at again when a member is live again (the old
     * primary reported its copy before its new lease, was not reachable then, and never rejoined).
     */
    @Test
    void aPrimaryCutOffFromEtcdIsReplacedAndComesBackAsASecondary() throws Exception {
        String primaryId = nodeIdOf(started.get(0));
        String secondaryId = nodeIdOf(started.get(1));
        // Failback off on the node that takes over: this test is about the deposed primary stepping down
        // (failback is the failover test's).
        nodes.get(secondaryId).close();
        StorageNode takesOver = start(names.get(secondaryId), etcd.clientUrl(), List.of("--cluster.failback=false"));
        nodes.get(primaryId).close();
        try (PausableProxy toEtcd = new PausableProxy(etcd.clientPort())) {
            StorageNode primary = start(names.get(primaryId), URI.create("http://127.0.0.1:" + toEtcd.port()),
                    List.of("--cluster.lease-ttl-seconds=3"));
            api.awaitLiveNodes(takesOver, 3);
            String id = createRecord("cut", primaryId, secondaryId);
            JsonNode primaryReport = awaitEtcdValue("/basalt/test/volume-states/" + id,
                    r -> r.path("nsid").asInt() > 0);
            int nsid = primaryReport.get("nsid").asInt();
            byte[] image = new byte[(int) (8L << 20)];
            Random random = new Random(13);
            HostController host = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                    primary.nvmeAddress().getPort(), primaryReport.get("nqn").asText()).get(10, TimeUnit.SECONDS);
            try {
                writeAndFlush(host, nsid, 50, random, 5, image);

                long cut = System.nanoTime();
                toEtcd.pause();
                JsonNode promoted = awaitRecord(id, r -> secondaryId.equals(r.path("primary").asText()));
                assertEquals(secondaryId, promoted.path("primary").asText(), "promoted: " + promoted);
                System.out.printf("promotion committed %d ms after the primary was cut off from etcd (TTL 3 s)%n",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cut));
                assertTrue(writeStatus(host, nsid) != 0, "the old primary acknowledges no write once replaced");
                assertEquals(AnaLog.INACCESSIBLE, host.anaLog(false).get(10, TimeUnit.SECONDS).group(1).state(),
                        "its path turned inaccessible when its fence fell");

                JsonNode served = awaitEtcdValue("/basalt/test/volume-states/" + id, r -> secondaryId.equals(
                        r.path("nodeId").asText()) && r.path("nsid").asInt() > 0);
                HostController again = HostController.connect(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                        nodes.get(secondaryId).nvmeAddress().getPort(), served.get("nqn").asText())
                        .get(10, TimeUnit.SECONDS);
                try {
                    assertArrayEquals(image, readAll(again, served.get("nsid").asInt(), 2048),
                            "every acknowledged block, from the new primary");
                    writeAndFlush(again, served.get("nsid").asInt(), 50, random, 5, image);
                } finally {
                    again.closeAsync().get(10, TimeUnit.SECONDS);
                }

                toEtcd.resume();
                JsonNode rejoined = awaitRecord(id, r -> ids(r.get("inSync")).size() == 2);
                assertEquals(List.of(primaryId, secondaryId), ids(rejoined.get("inSync")), rejoined.toString());
                assertEquals(secondaryId, rejoined.path("primary").asText(), "no failback (off here): " + rejoined);
                assertArrayEquals(image, readCopy(id, primaryId, 2048), "the old primary's copy, caught up");
                int status = writeStatus(host, nsid);
                assertEquals(Status.ANA_INACCESSIBLE, status,
                        "the old primary's path is a secondary's now: " + Status.describe(status));
            } finally {
                host.closeAsync().get(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Writes zeroes to block 0 until the answer is {@code expected} (a path turning optimized), at most 10 s. */
    private static void awaitWriteStatus(HostController host, int nsid, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int status = writeStatus(host, nsid);
        while (status != expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
            status = writeStatus(host, nsid);
        }
        assertEquals(expected, status, Status.describe(status));
    }

    /** The status a one-block write of zeroes at block 0 is answered with, which may be an error. */
    private static int writeStatus(HostController host, int nsid) throws Exception {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        host.write(nsid, 0, 1, Unpooled.wrappedBuffer(new byte[BLOCK]), false, (status, result) -> done.complete(status));
        return done.get(10, TimeUnit.SECONDS);
    }

    /**
     * Writes the record of a new 2-copy volume of 8 MiB for {@link #HOST_NQN} as the API writes it, both
     * copies in sync, placed on the nodes given (the API's placement would choose them itself); its id.
     */
    private String createRecord(String name, String primaryId, String secondaryId) throws Exception {
        String id = UUID.randomUUID().toString();
        ObjectNode desire = JSON.createObjectNode().put("id", id).put("project", "default").put("name", name)
                .put("sizeBytes", 8L << 20).put("replicas", 2).put("requireAuthentication", false)
                .put("uuid", UUID.randomUUID().toString()).put("nguid", "0123456789abcdef0123456789abcdef")
                .put("generation", 1);
        desire.putArray("nodeIds").add(primaryId).add(secondaryId);
        desire.putArray("inSync").add(primaryId).add(secondaryId);
        desire.putArray("hosts").add(HOST_NQN);
        assertTrue(new VolumeTransactions(etcdClient, new ClusterKeys("test"), Duration.ofSeconds(5))
                .create(id, "default", name, JSON.writeValueAsBytes(desire)));
        return id;
    }

    private String nodeIdOf(StorageNode node) {
        return nodes.entrySet().stream().filter(e -> e.getValue() == node).findFirst().orElseThrow().getKey();
    }

    /**
     * {@code writes} random writes within the first 2048 blocks, every {@code fuaEvery}-th with FUA (0:
     * none), then a flush: each answered with status 0, their bytes kept in {@code image}.
     */
    private static void writeAndFlush(HostController host, int nsid, int writes, Random random, int fuaEvery,
                                      byte[] image) throws Exception {
        for (int i = 0; i < writes; i++) {
            write(host, nsid, random.nextInt(2048 - 8), 1 + random.nextInt(8), random, fuaEvery > 0 && i % fuaEvery == 0,
                    image);
        }
        assertEquals(0, flush(host, nsid));
    }

    /** Writes random bytes, waits for the answer (status 0) and keeps them in {@code image}. */
    private static void write(HostController host, int nsid, long lba, int blocks, Random random, boolean fua,
                              byte[] image) throws Exception {
        byte[] data = new byte[blocks * BLOCK];
        random.nextBytes(data);
        CompletableFuture<Integer> done = new CompletableFuture<>();
        host.write(nsid, lba, blocks, Unpooled.wrappedBuffer(data), fua, (status, result) -> done.complete(status));
        assertEquals(0, done.get(10, TimeUnit.SECONDS), "write of " + blocks + " blocks at " + lba);
        System.arraycopy(data, 0, image, (int) (lba * BLOCK), data.length);
    }

    private static int flush(HostController host, int nsid) throws Exception {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        host.flush(nsid, (status, result) -> done.complete(status));
        return done.get(10, TimeUnit.SECONDS);
    }

    private static byte[] readAll(HostController host, int nsid, long blocks) throws Exception {
        byte[] image = new byte[(int) (blocks * BLOCK)];
        ByteBuf buf = Unpooled.buffer(64 * BLOCK);
        try {
            for (long lba = 0; lba < blocks; lba += 64) {
                buf.clear();
                CompletableFuture<Integer> done = new CompletableFuture<>();
                host.read(nsid, lba, 64, buf, (status, result) -> done.complete(status));
                assertEquals(0, done.get(10, TimeUnit.SECONDS), "read at " + lba);
                buf.getBytes(0, image, (int) (lba * BLOCK), 64 * BLOCK);
            }
        } finally {
            buf.release();
        }
        return image;
    }

    /** A secondary's copy, read through its replica subsystem with its own node's host NQN. */
    private byte[] readCopy(String volumeId, String nodeId, long blocks) throws Exception {
        HostController copy = connectToCopy(volumeId, nodeId);
        try {
            return readAll(copy, ReplicaSubsystem.NSID, blocks);
        } finally {
            copy.closeAsync().get(10, TimeUnit.SECONDS);
        }
    }

    private long copySize(String volumeId, String nodeId) throws Exception {
        HostController copy = connectToCopy(volumeId, nodeId);
        try {
            return copy.identifyNamespace(ReplicaSubsystem.NSID).get(10, TimeUnit.SECONDS).sizeBytes();
        } finally {
            copy.closeAsync().get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * How node {@code nodeId} connects to other nodes' copies: its host NQN, with the credentials derived
     * from the cluster's secret as etcd holds it.
     */
    private HostOptions asNode(String nodeId) throws Exception {
        GetResponse got = etcdClient.getKVClient().get(ByteSequence.from("/basalt/test/node-secret", UTF_8))
                .get(10, TimeUnit.SECONDS);
        ClusterSecret secret = new ClusterSecret(got.getKvs().getFirst().getValue().getBytes());
        return HostOptions.defaults(VolumeCopies.hostNqn(nodeId))
                .withDhchap(new NodeCredentials(secret).of(VolumeCopies.hostNqn(nodeId)));
    }

    private HostController connectToCopy(String volumeId, String nodeId) throws Exception {
        return HostController.connect(hostGroup, asNode(nodeId), HOST,
                nodes.get(nodeId).nvmeAddress().getPort(), report(volumeId, nodeId).get("nqn").asText())
                .get(10, TimeUnit.SECONDS);
    }

    /** An 8 MiB volume of {@code replicas} copies the test's host may see, created through the first node. */
    private JsonNode createVolume(String name, int replicas) throws Exception {
        HttpResponse<Buffer> created = api.send(started.get(0), "POST", "/api/v1/volumes", new JsonObject()
                .put("name", name).put("sizeBytes", 8L << 20).put("replicas", replicas).put("hosts", List.of(HOST_NQN)));
        assertEquals(201, created.statusCode(), created.bodyAsString());
        return JSON.readTree(created.bodyAsString());
    }

    private JsonNode record(String volumeId) throws Exception {
        return etcdValue("/basalt/test/volumes/" + volumeId);
    }

    /** A secondary's report on its copy. */
    private JsonNode report(String volumeId, String nodeId) throws Exception {
        return etcdValue("/basalt/test/volume-states/" + volumeId + "@" + nodeId);
    }

    private JsonNode etcdValue(String key) throws Exception {
        GetResponse got = etcdClient.getKVClient().get(ByteSequence.from(key, UTF_8)).get(10, TimeUnit.SECONDS);
        assertFalse(got.getKvs().isEmpty(), key + " is in etcd");
        return JSON.readTree(got.getKvs().getFirst().getValue().getBytes());
    }

    private static List<String> ids(JsonNode array) {
        List<String> ids = new ArrayList<>();
        array.forEach(n -> ids.add(n.asText()));
        return ids;
    }
}
