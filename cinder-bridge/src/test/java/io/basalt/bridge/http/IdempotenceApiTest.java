package io.basalt.bridge.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;

import static io.basalt.bridge.http.ApiServer.ADMIN;
import static io.basalt.bridge.http.ApiServer.HOST_A;
import static io.basalt.bridge.http.ApiServer.HOST_B;
import static io.basalt.bridge.http.ApiServer.assertError;
import static io.basalt.bridge.http.ApiServer.await;
import static io.basalt.bridge.http.ApiServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Retries of creates, and concurrent creates of one name. */
class IdempotenceApiTest extends ApiServerTest {
    private static final String VOLUMES = "/api/v1/volumes";
    private static final String BODY = "{\"name\":\"v\",\"sizeBytes\":4096,\"hosts\":[\"" + HOST_A + "\",\"" + HOST_B + "\"]}";

    @Test
    void anIdenticalRetryReturnsTheExistingVolume() throws Exception {
        JsonNode created = api.create(VOLUMES, BODY);
        HttpResponse<Buffer> retry = api.send(HttpMethod.POST, VOLUMES, BODY);
        assertEquals(200, retry.statusCode(), retry.bodyAsString());
        assertEquals(created, json(retry));
        assertNull(retry.getHeader("Location"));
        assertEquals(1, api.count(VOLUMES, "volumes"));
    }

    @Test
    void hostsOfARetryAreComparedAsASet() throws Exception {
        JsonNode created = api.create(VOLUMES, BODY);
        HttpResponse<Buffer> retry = api.send(HttpMethod.POST, VOLUMES,
                "{\"name\":\"v\",\"sizeBytes\":4096,\"hosts\":[\"" + HOST_B + "\",\"" + HOST_A + "\",\"" + HOST_B + "\"]}");
        assertEquals(200, retry.statusCode(), retry.bodyAsString());
        assertEquals(created.get("id"), json(retry).get("id"));
    }

    @Test
    void aRetryThatLeftTheSizeToTheSourceMatches() throws Exception {
        String source = api.createVolume("source");
        String body = "{\"name\":\"clone\",\"sizeBytes\":0,\"sourceVolumeId\":\"" + source + "\"}";
        JsonNode clone = api.create(VOLUMES, body);
        HttpResponse<Buffer> retry = api.send(HttpMethod.POST, VOLUMES, body);
        assertEquals(200, retry.statusCode(), retry.bodyAsString());
        assertEquals(clone, json(retry));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"name\":\"v\",\"sizeBytes\":8192,\"hosts\":[\"" + HOST_A + "\",\"" + HOST_B + "\"]}",
            "{\"name\":\"v\",\"sizeBytes\":4096,\"hosts\":[\"" + HOST_A + "\"]}",
            "{\"name\":\"v\",\"sizeBytes\":4096,\"hosts\":[\"" + HOST_A + "\",\"" + HOST_B + "\"],\"compression\":true}",
            "{\"name\":\"v\",\"sizeBytes\":4096,\"hosts\":[\"" + HOST_A + "\",\"" + HOST_B + "\"],\"sourceVolumeId\":\"x\"}"})
    void aCreateThatDiffersFromTheExistingVolumeIsAConflict(String body) throws Exception {
        api.create(VOLUMES, BODY);
        if (body.contains("sourceVolumeId")) {
            String source = api.createVolume("source");
            body = body.replace("\"x\"", "\"" + source + "\"");
        }
        assertError(api.send(HttpMethod.POST, VOLUMES, body), 409, "name", "v");
        assertEquals(4096, json(api.send(HttpMethod.GET, VOLUMES + "?name=v", null)).get("volumes").get(0)
                .get("sizeBytes").asLong());
    }

    @Test
    void namesAreUniquePerProjectOnly() throws Exception {
        String inDefault = api.create(VOLUMES, BODY).get("id").asText();
        String inAlpha = api.create("/api/v1/projects/alpha/volumes", BODY).get("id").asText();
        assertEquals(2, Set.of(inDefault, inAlpha).size());
    }

    @Test
    void anIdenticalSnapshotRetryReturnsTheExistingSnapshot() throws Exception {
        String volume = api.createVolume("v1");
        String other = api.createVolume("v2");
        String body = "{\"name\":\"s\",\"sourceVolumeId\":\"" + volume + "\"}";
        JsonNode created = api.create("/api/v1/snapshots", body);

        HttpResponse<Buffer> retry = api.send(HttpMethod.POST, "/api/v1/snapshots", body);
        assertEquals(200, retry.statusCode(), retry.bodyAsString());
        assertEquals(created, json(retry));
        assertError(api.send(HttpMethod.POST, "/api/v1/snapshots", "{\"name\":\"s\",\"sourceVolumeId\":\"" + other + "\"}"),
                409, "name", "s");
        assertEquals(1, api.count("/api/v1/snapshots", "snapshots"));
    }

    @Test
    void concurrentIdenticalCreatesYieldOneVolumeThatAllOfThemReturn() throws Exception {
        List<HttpResponse<Buffer>> responses = createConcurrently(32, i -> BODY);
        assertEquals(1, count(responses, 201));
        assertEquals(31, count(responses, 200));
        Set<String> ids = new HashSet<>();
        for (HttpResponse<Buffer> response : responses) {
            ids.add(json(response).get("id").asText());
        }
        assertEquals(1, ids.size(), "every answer is the one volume");
        assertEquals(1, api.count(VOLUMES, "volumes"));
    }

    @Test
    void concurrentDifferentCreatesOfOneNameYieldOneVolumeAndConflicts() throws Exception {
        List<HttpResponse<Buffer>> responses = createConcurrently(32,
                i -> "{\"name\":\"contested\",\"sizeBytes\":" + 512 * (i + 1) + "}");
        assertEquals(1, count(responses, 201));
        assertEquals(31, count(responses, 409));
        assertEquals(1, api.count(VOLUMES, "volumes"));
    }

    private static List<HttpResponse<Buffer>> createConcurrently(int attempts, IntFunction<String> body) throws Exception {
        List<Future<HttpResponse<Buffer>>> pending = new ArrayList<>();
        for (int i = 0; i < attempts; i++) {
            pending.add(api.start(HttpMethod.POST, VOLUMES, body.apply(i), ADMIN));
        }
        List<HttpResponse<Buffer>> responses = new ArrayList<>();
        for (Future<HttpResponse<Buffer>> response : pending) {
            responses.add(await(response));
        }
        return responses;
    }

    private static long count(List<HttpResponse<Buffer>> responses, int status) {
        return responses.stream().filter(r -> r.statusCode() == status).count();
    }
}
