package io.basalt.bridge.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import static io.basalt.bridge.http.ApiServer.ALPHA;
import static io.basalt.bridge.http.ApiServer.assertError;
import static io.basalt.bridge.http.ApiServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cluster's routes: the admin's only, and a clear 404 on a node that runs alone. */
class ClusterApiTest extends ApiServerTest {
    @Test
    void theAdminSeesTheClusterAndEveryNode() throws Exception {
        HttpResponse<Buffer> overview = api.send(HttpMethod.GET, "/api/v1/cluster", null);
        assertEquals(200, overview.statusCode(), overview.bodyAsString());
        JsonNode cluster = json(overview);
        assertEquals("prod", cluster.get("name").asText());
        assertEquals(FixedCluster.SELF, cluster.get("nodeId").asText());
        assertEquals(1, cluster.get("liveNodes").asInt());
        assertEquals(2, cluster.get("nodes").asInt());

        HttpResponse<Buffer> list = api.send(HttpMethod.GET, "/api/v1/cluster/nodes", null);
        assertEquals(200, list.statusCode(), list.bodyAsString());
        JsonNode nodes = json(list).get("nodes");
        assertEquals(2, nodes.size());
        JsonNode live = nodes.get(0);
        assertEquals("rack-a", live.get("failureDomain").asText());
        assertTrue(live.get("live").asBoolean());
        assertTrue(live.get("self").asBoolean());
        assertEquals(1L << 39, live.get("freeBytes").asLong());
        assertEquals(4420, live.get("portals").get(0).get("port").asInt());
        JsonNode down = nodes.get(1);
        assertFalse(down.get("live").asBoolean());
        assertFalse(down.has("freeBytes"), "a node that is down has no current capacity: " + down);
    }

    @Test
    void projectsMayNotSeeTheCluster() throws Exception {
        for (String path : new String[] {"/api/v1/cluster", "/api/v1/cluster/nodes"}) {
            assertEquals(401, api.send(HttpMethod.GET, path, null, null).statusCode(), path);
            assertError(api.send(HttpMethod.GET, path, null, ALPHA), 403, null, "admin");
        }
    }

    @Test
    void aNodeStillJoiningAsksToRetry() throws Exception {
        api.cluster.joining = true;
        try {
            HttpResponse<Buffer> joining = api.send(HttpMethod.GET, "/api/v1/cluster/nodes", null);
            assertError(joining, 503, null, "joining");
            assertEquals("2", joining.getHeader("Retry-After"));
        } finally {
            api.cluster.joining = false;
        }
    }

    @Test
    void aNodeThatRunsAloneSaysItIsNotInACluster() throws Exception {
        ApiServer alone = new ApiServer(false);
        try {
            for (String path : new String[] {"/api/v1/cluster", "/api/v1/cluster/nodes"}) {
                assertError(alone.send(HttpMethod.GET, path, null), 404, null, "not in a cluster");
            }
        } finally {
            alone.close();
        }
    }
}
