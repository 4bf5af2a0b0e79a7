package io.basalt.service.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.cluster.etcd.EtcdProcess;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.service.StorageNode;
import io.basalt.service.config.ConfigLoader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.nio.NioEventLoopGroup;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.util.UUID;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three real nodes, one per failure domain, on a real etcd: a volume created through node A's API is
 * placed on node B (the emptiest: its drive is the largest), every node's API shows it with B's
 * subsystem and portal, a host writes and reads it back through B's portal and gets nothing from A's,
 * and deleting it through node C removes it from B. While B is down its volumes cannot change; back, it
 * serves them at its new portal. What the cluster cannot do is refused clearly.
 */
class ClusterVolumesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOST = "127.0.0.1";
    private static final String HOST_NQN = "nqn.2014-08.com.example:cluster-host";
    private static ClusterTestApi api;

    @TempDir
    Path dir;

    @BeforeAll
    static void client() {
        api = new ClusterTestApi();
    }

    @AfterAll
    static void closeClient() throws Exception {
        api.close();
    }

    @Test
    void aVolumeCreatedOnOneNodeIsPlacedServedAndDeletedThroughOthers() throws Exception {
        NioEventLoopGroup hostGroup = new NioEventLoopGroup(1);
        try (EtcdProcess etcd = EtcdProcess.start();
             StorageNode a = StorageNode.start(ConfigLoader.load(args("a", "rack-a", "64MiB", etcd), Map.of()));
             StorageNode b = StorageNode.start(ConfigLoader.load(ClusterTestApi.onDisk(args("b", "rack-b", "256MiB", etcd)), Map.of()));
             StorageNode c = StorageNode.start(ConfigLoader.load(args("c", "rack-c", "64MiB", etcd), Map.of()))) {
            api.awaitLiveNodes(a, 3);
            api.awaitLiveNodes(c, 3);

            HttpResponse<Buffer> created = api.send(a, "POST", "/api/v1/volumes",
                    new JsonObject().put("name", "shared").put("sizeBytes", 8L << 20).put("hosts", List.of(HOST_NQN)));
            assertEquals(201, created.statusCode(), created.bodyAsString());
            JsonNode volume = JSON.readTree(created.bodyAsString());
            String id = volume.get("id").asText();
            String nqn = volume.get("nqn").asText();
            int nsid = volume.get("nsid").asInt();
            assertTrue(nsid > 0, volume.toString());
            assertEquals(b.nvmeAddress().getPort(), volume.get("portals").get(0).get("port").asInt(),
                    "placed on B, the emptiest node, and shown with B's portal: " + volume);
            assertEquals(1, volume.get("portals").size(), volume.toString());
            assertEquals(0, api.stats(a).get("volumes").asInt(), "A only recorded it");
            assertEquals(1, api.stats(b).get("volumes").asInt(), "B made it");

            for (StorageNode node : List.of(a, b, c)) {
                api.awaitAnswer(node, "/api/v1/volumes/" + id, answer -> answer.bodyAsString().contains("\"nsid\":" + nsid));
                HttpResponse<Buffer> shown = api.send(node, "GET", "/api/v1/volumes/" + id, null);
                assertEquals(200, shown.statusCode(), shown.bodyAsString());
                JsonNode seen = JSON.readTree(shown.bodyAsString());
                assertEquals(nqn, seen.get("nqn").asText());
                assertEquals(nsid, seen.get("nsid").asInt());
                assertEquals(volume.get("uuid").asText(), seen.get("uuid").asText());
                assertEquals(volume.get("compression"), seen.get("compression"));
                assertEquals(node == b, seen.has("space"), "only the holding node knows the space it uses: " + seen);
                JsonNode listed = JSON.readTree(api.send(node, "GET", "/api/v1/volumes?name=shared", null).bodyAsString());
                assertEquals(id, listed.get("volumes").get(0).get("id").asText(), listed.toString());
            }

            JsonNode overview = JSON.readTree(api.send(c, "GET", "/api/v1/cluster", null).bodyAsString());
            assertEquals(1, overview.get("volumes").asInt(), overview.toString());
            assertEquals(8L << 20, overview.get("provisionedBytes").asLong(), "what Cinder's pool reports: " + overview);

            // Discovery through any node lists the volume's portal (B's) for an allowed host, none for another
            // (A and C listed nothing before they were given the cluster's portals: shown failing so).
            String portalOfB = nqn + "@" + volume.get("portals").get(0).get("address").asText() + ":"
                    + b.nvmeAddress().getPort();
            for (StorageNode node : List.of(a, b, c)) {
                List<String> listed = HostController.discover(hostGroup, HostOptions.defaults(HOST_NQN), HOST,
                        node.discoveryAddress().getPort()).get(10, TimeUnit.SECONDS).stream()
                        .map(e -> e.subnqn() + "@" + e.traddr() + ":" + e.port()).toList();
                assertTrue(listed.contains(portalOfB), "discovery of " + node.nvmeAddress() + ": " + listed);
                assertEquals(1, listed.stream().filter(portalOfB::equals).count(), "listed once: " + listed);
                assertTrue(HostController.discover(hostGroup, HostOptions.defaults("nqn.2014-08.com.example:stranger"),
                        HOST, node.discoveryAddress().getPort()).get(10, TimeUnit.SECONDS).stream()
                        .noneMatch(e -> e.subnqn().equals(nqn)), "a host the volume does not name finds nothing of it");
            }

            HostOptions options = HostOptions.defaults(HOST_NQN);
            HostController throughB = HostController.connect(hostGroup, options, HOST, b.nvmeAddress().getPort(), nqn)
                    .get(10, TimeUnit.SECONDS);
            try {
                int blockSize = throughB.identifyNamespace(nsid).get(10, TimeUnit.SECONDS).blockSize();
                byte[] written = new byte[blockSize];
                for (int i = 0; i < written.length; i++) {
                    written[i] = (byte) (i * 7 + 1);
                }
                CompletableFuture<Integer> write = new CompletableFuture<>();
                throughB.write(nsid, 3, 1, Unpooled.wrappedBuffer(written), true, (status, result) -> write.complete(status));
                assertEquals(0, write.get(10, TimeUnit.SECONDS), "write status");
                ByteBuf readBack = Unpooled.buffer(blockSize);
                CompletableFuture<Integer> read = new CompletableFuture<>();
                throughB.read(nsid, 3, 1, readBack, (status, result) -> read.complete(status));
                assertEquals(0, read.get(10, TimeUnit.SECONDS), "read status");
                byte[] got = new byte[blockSize];
                readBack.getBytes(0, got);
                assertArrayEquals(written, got);
                readBack.release();

                HttpResponse<Buffer> extended = api.send(c, "PUT", "/api/v1/volumes/" + id,
                        new JsonObject().put("sizeBytes", 16L << 20));
                assertEquals(200, extended.statusCode(), extended.bodyAsString());
                assertEquals(16L << 20, throughB.identifyNamespace(nsid).get(10, TimeUnit.SECONDS).sizeBytes(),
                        "extended through C, B grew the namespace before C answered");
                api.awaitAnswer(a, "/api/v1/volumes/" + id, answer -> answer.bodyAsString().contains("\"sizeBytes\":" + (16L << 20)));
            } finally {
                throughB.closeAsync().get(10, TimeUnit.SECONDS);
            }
            assertThrows(ExecutionException.class, () -> HostController.connect(hostGroup, options, HOST,
                    a.nvmeAddress().getPort(), nqn).get(10, TimeUnit.SECONDS).closeAsync().get(10, TimeUnit.SECONDS),
                    "A does not serve B's subsystem: a host connecting to the wrong node gets nothing");

            HttpResponse<Buffer> hostRemoved = api.send(a, "DELETE", "/api/v1/volumes/" + id + "/hosts/" + HOST_NQN, null);
            assertEquals(200, hostRemoved.statusCode(), hostRemoved.bodyAsString());
            Throwable refused = assertThrows(ExecutionException.class, () -> HostController.connect(hostGroup, options,
                    HOST, b.nvmeAddress().getPort(), nqn).get(10, TimeUnit.SECONDS).closeAsync().get(10, TimeUnit.SECONDS));
            assertTrue(refused.getMessage().contains("SC 0x84"), "the host removed through A may no longer connect"
                    + " to B's subsystem, where it is allowed nothing: " + refused.getMessage());

            HttpResponse<Buffer> deleted = api.send(c, "DELETE", "/api/v1/volumes/" + id, null);
            assertEquals(204, deleted.statusCode(), deleted.bodyAsString());
            assertEquals(0, api.stats(b).get("volumes").asInt(), "B removed it before C answered");
            for (StorageNode node : List.of(a, b, c)) {
                api.awaitAnswer(node, "/api/v1/volumes/" + id, answer -> answer.statusCode() == 404);
            }

            HttpResponse<Buffer> later = api.send(a, "POST", "/api/v1/volumes",
                    new JsonObject().put("name", "later").put("sizeBytes", 4L << 20));
            assertEquals(201, later.statusCode(), later.bodyAsString());
            String laterId = JSON.readTree(later.bodyAsString()).get("id").asText();
            b.close();
            api.awaitLiveNodes(a, 2);
            HttpResponse<Buffer> whileDown = api.send(a, "PUT", "/api/v1/volumes/" + laterId,
                    new JsonObject().put("sizeBytes", 8L << 20));
            assertEquals(503, whileDown.statusCode(), whileDown.bodyAsString());
            assertTrue(whileDown.bodyAsString().contains("is down"), whileDown.bodyAsString());
            assertEquals(503, api.send(c, "DELETE", "/api/v1/volumes/" + laterId, null).statusCode(),
                    "only the holder can delete its copy");
            assertEquals(200, api.send(c, "GET", "/api/v1/volumes/" + laterId, null).statusCode(),
                    "the volume is still listed while its node is down");

            try (StorageNode backAgain = StorageNode.start(ConfigLoader.load(ClusterTestApi.onDisk(args("b", "rack-b", "256MiB", etcd)),
                    Map.of()))) {
                api.awaitLiveNodes(a, 3);
                HttpResponse<Buffer> extended = api.send(a, "PUT", "/api/v1/volumes/" + laterId,
                        new JsonObject().put("sizeBytes", 8L << 20));
                assertEquals(200, extended.statusCode(), extended.bodyAsString());
                JsonNode shown = JSON.readTree(extended.bodyAsString());
                assertEquals(backAgain.nvmeAddress().getPort(), shown.get("portals").get(0).get("port").asInt(),
                        "the restarted node's new portal: " + shown);
                assertEquals(1, api.stats(backAgain).get("volumes").asInt(), "its volume survived the restart, once");
            }
        } finally {
            hostGroup.shutdownGracefully(0, 0, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void whatTheClusterCannotDoIsRefusedWithTheReason() throws Exception {
        try (EtcdProcess etcd = EtcdProcess.start();
             StorageNode a = StorageNode.start(ConfigLoader.load(args("a", "rack-a", "64MiB", etcd), Map.of()));
             StorageNode b = StorageNode.start(ConfigLoader.load(args("b", "rack-a", "64MiB", etcd), Map.of()))) {
            api.awaitLiveNodes(a, 2);
            HttpResponse<Buffer> tooLarge = api.send(a, "POST", "/api/v1/volumes",
                    new JsonObject().put("name", "huge").put("sizeBytes", 1L << 30));
            assertEquals(507, tooLarge.statusCode(), tooLarge.bodyAsString());
            assertTrue(tooLarge.bodyAsString().contains("the cluster cannot place the volume: 1 replica needs a live node"
                    + " with 1073741824 bytes free; the cluster has 2 live nodes in 1 failure domain [rack-a], of which 0"
                    + " have a node with that much free"), tooLarge.bodyAsString());

            HttpResponse<Buffer> replicated = api.send(b, "POST", "/api/v1/volumes",
                    new JsonObject().put("name", "copies").put("sizeBytes", 1L << 20).put("replicas", 2));
            assertEquals(507, replicated.statusCode(), replicated.bodyAsString());
            assertTrue(replicated.bodyAsString().contains("2 replicas need live nodes in 2 distinct failure domains"),
                    replicated.bodyAsString());

            HttpResponse<Buffer> holderRefuses = api.send(a, "POST", "/api/v1/volumes",
                    new JsonObject().put("name", "odd").put("sizeBytes", (1L << 20) + 512));
            assertEquals(400, holderRefuses.statusCode(), holderRefuses.bodyAsString());
            assertTrue(holderRefuses.bodyAsString().contains("multiple of the volume's block size"),
                    holderRefuses.bodyAsString());
            assertEquals(0, JSON.readTree(api.send(a, "GET", "/api/v1/volumes", null).bodyAsString()).get("volumes").size(),
                    "a create the holding node refused leaves no record, as the node that answered knows at once");

            assertEquals(201, api.send(a, "POST", "/api/v1/volumes", new JsonObject().put("name", "once")
                    .put("sizeBytes", 1L << 20)).statusCode());
            HttpResponse<Buffer> sameName = api.send(b, "POST", "/api/v1/volumes", new JsonObject().put("name", "once")
                    .put("sizeBytes", 2L << 20));
            assertEquals(409, sameName.statusCode(), "one name, one volume, whichever node is asked: "
                    + sameName.bodyAsString());

            try (Client etcdClient = Client.builder().endpoints(etcd.endpoints().toArray(URI[]::new)).build()) {
                etcdClient.getKVClient().put(ByteSequence.from("/basalt/test/volumes/garbage", UTF_8),
                        ByteSequence.from("not json", UTF_8)).get(10, TimeUnit.SECONDS);
                etcdClient.getKVClient().put(ByteSequence.from("/basalt/test/volumes/nowhere", UTF_8),
                        ByteSequence.from("{\"id\":\"nowhere\",\"project\":\"default\",\"name\":\"nowhere\","
                                + "\"uuid\":\"" + UUID.randomUUID() + "\",\"nguid\":\"00\",\"hosts\":[],\"nodeIds\":[]}",
                                UTF_8)).get(10, TimeUnit.SECONDS);
                etcdClient.getKVClient().put(ByteSequence.from("/basalt/test/volume-states/nowhere", UTF_8),
                        ByteSequence.from("{\"nodeId\":\"x\"}", UTF_8)).get(10, TimeUnit.SECONDS);
            }
            // Written after the bad records, so once B shows it, B's watch has delivered them too.
            assertEquals(201, api.send(a, "POST", "/api/v1/volumes", new JsonObject().put("name", "after")
                    .put("sizeBytes", 1L << 20)).statusCode());
            api.awaitAnswer(b, "/api/v1/volumes?name=after", answer -> answer.bodyAsString().contains("\"after\""));
            // Without VolumeDesire's checks, the record without a node made B answer 500 here.
            assertEquals(404, api.send(b, "GET", "/api/v1/volumes/nowhere", null).statusCode());
            HttpResponse<Buffer> listed = api.send(b, "GET", "/api/v1/volumes", null);
            assertEquals(200, listed.statusCode(), listed.bodyAsString());
            assertEquals(2, JSON.readTree(listed.bodyAsString()).get("volumes").size(),
                    "records that are not ours are left out, the others listed: " + listed.bodyAsString());
        }
    }

    private List<String> args(String name, String failureDomain, String drive, EtcdProcess etcd) {
        return ClusterTestApi.args(dir, name, failureDomain, drive, etcd.clientUrl());
    }
}
