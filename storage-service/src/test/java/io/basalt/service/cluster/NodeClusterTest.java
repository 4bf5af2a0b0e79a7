package io.basalt.service.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.cluster.etcd.EtcdProcess;
import io.basalt.service.StartupException;
import io.basalt.service.StorageNode;
import io.basalt.service.config.ConfigLoader;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Real nodes in a cluster on a real etcd (the default lease TTL: a node that stops revokes its lease, so
 * the test never waits for one to expire): each lists the other through {@code GET /api/v1/cluster/nodes}
 * with its failure domain, addresses and capacity; a node that stops is shown down; a node that cannot
 * reach etcd does not start; a node without etcd endpoints runs alone and says so.
 */
class NodeClusterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
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
    void nodesListEachOtherAndSeeANodeThatStoppedAsDown() throws Exception {
        try (EtcdProcess etcd = EtcdProcess.start();
             StorageNode a = StorageNode.start(ConfigLoader.load(args("a", "rack-a", etcd), Map.of()))) {
            StorageNode b = StorageNode.start(ConfigLoader.load(args("b", "rack-b", etcd), Map.of()));
            try {
                JsonNode nodes = awaitNodes(a, list -> list.size() == 2 && list.get(1).get("live").asBoolean());
                JsonNode nodeB = nodes.get(1);
                assertEquals("rack-b", nodeB.get("failureDomain").asText());
                assertEquals("http://127.0.0.1:" + b.apiAddress().getPort(), nodeB.get("apiAddress").asText());
                assertEquals(b.nvmeAddress().getPort(), nodeB.get("portals").get(0).get("port").asInt());
                assertTrue(nodeB.get("freeBytes").asLong() > 0 && nodeB.get("totalBytes").asLong() >= nodeB.get("freeBytes").asLong(),
                        nodeB.toString());
                assertFalse(nodeB.get("self").asBoolean());
                assertTrue(nodes.get(0).get("self").asBoolean());

                JsonNode overview = JSON.readTree(get(a, "/api/v1/cluster").bodyAsString());
                assertEquals("test", overview.get("name").asText());
                assertEquals(2, overview.get("liveNodes").asInt());
                assertEquals(2, overview.get("liveFailureDomains").asInt());
                assertEquals(nodes.get(0).get("id").asText(), overview.get("nodeId").asText());

                String metrics = get(a, "/metrics").bodyAsString();
                assertTrue(metrics.contains("basalt_cluster_members_live 2.0"), metrics);
                assertTrue(metrics.contains("basalt_cluster_lease_losses_total "), metrics);
                assertTrue(metrics.contains("basalt_cluster_registrations_total "), metrics);
            } finally {
                b.close();
            }
            awaitNodes(a, list -> list.size() == 2 && !list.get(1).get("live").asBoolean());
        }
    }

    @Test
    void aNodeWithoutEtcdRunsAloneAndSaysItIsNotInACluster() throws Exception {
        try (StorageNode alone = StorageNode.start(ConfigLoader.load(List.of("--data-dir", dir.resolve("alone").toString(),
                "--nvme.port=0", "--nvme.discovery-port=0", "--api.port=0", "--engine.drives=memory:64MiB",
                "--engine.segment-size=2MiB", "--api.admin-token=" + ClusterTestApi.ADMIN_TOKEN), Map.of()))) {
            HttpResponse<Buffer> answer = get(alone, "/api/v1/cluster/nodes");
            assertEquals(404, answer.statusCode(), answer.bodyAsString());
            assertTrue(answer.bodyAsString().contains("not in a cluster"), answer.bodyAsString());
            assertFalse(get(alone, "/metrics").bodyAsString().contains("basalt_cluster"));
        }
    }

    @Test
    void aNodeThatCannotReachEtcdDoesNotStartAndSaysWhy() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        URI nowhere = URI.create("http://127.0.0.1:" + closedPort);
        StartupException refused = assertThrows(StartupException.class,
                () -> StorageNode.start(ConfigLoader.load(args("lost", "rack-a", nowhere), Map.of())).close());
        assertTrue(refused.getMessage().startsWith("cannot join cluster 'test' through [" + nowhere + "]: etcd"),
                refused.getMessage());
    }

    private List<String> args(String name, String failureDomain, EtcdProcess etcd) {
        return args(name, failureDomain, etcd.clientUrl());
    }

    private List<String> args(String name, String failureDomain, URI etcd) {
        return ClusterTestApi.args(dir, name, failureDomain, "64MiB", etcd);
    }

    /** The node list {@code observer} shows, once {@code condition} holds; 30 s at most. */
    private JsonNode awaitNodes(StorageNode observer, Predicate<JsonNode> condition)
            throws Exception {
        JsonNode nodes = null;
        for (int attempt = 0; attempt < 300; attempt++) {
            HttpResponse<Buffer> answer = get(observer, "/api/v1/cluster/nodes");
            if (answer.statusCode() == 200) {
                nodes = JSON.readTree(answer.bodyAsString()).get("nodes");
                if (condition.test(nodes)) {
                    return nodes;
                }
            }
            Thread.sleep(100);
        }
        return fail("the nodes never looked as expected: " + nodes);
    }

    private HttpResponse<Buffer> get(StorageNode node, String path) throws Exception {
        return api.get(node, path);
    }
}
