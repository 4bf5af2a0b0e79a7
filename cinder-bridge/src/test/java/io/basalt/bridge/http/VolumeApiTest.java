package io.basalt.bridge.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The volume API served by its real router on a real port, over an in-memory service. */
class VolumeApiTest {
    private static final String HOST_A = "nqn.2014-08.org.nvmexpress:uuid:8b3e5c2a-1f4d-4e6a-9b7c-0d2e4f6a8b1c";
    private static final String HOST_B = "nqn.2014-08.com.example:host-b";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Vertx vertx;
    private static HttpServer server;
    private static WebClient client;
    private static final InMemoryVolumeService service = new InMemoryVolumeService();

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        server = await(vertx.createHttpServer()
                .requestHandler(VolumeApi.router(vertx, service))
                .listen(0, "127.0.0.1"));
        client = WebClient.create(vertx, new WebClientOptions()
                .setDefaultHost("127.0.0.1")
                .setDefaultPort(server.actualPort())
                .setMaxPoolSize(64));
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        await(server.close());
        await(vertx.close());
    }

    @AfterEach
    void noServiceCallOnAnEventLoop() {
        assertEquals(0, service.eventLoopCalls(), "service called on an event loop");
        service.clear();
    }

    @Test
    void healthReportsOkAndTheVolumeCount() throws Exception {
        create("{\"name\":\"v1\",\"sizeBytes\":4096}");
        HttpResponse<Buffer> response = send(HttpMethod.GET, "/api/v1/health", null);
        assertEquals(200, response.statusCode());
        JsonNode body = json(response);
        assertEquals("ok", body.get("status").asText());
        assertEquals(1, body.get("volumes").asInt());
    }

    @Test
    void createReturnsTheVolumeAndWhereToFindIt() throws Exception {
        HttpResponse<Buffer> response = send(HttpMethod.POST, "/api/v1/volumes",
                "{\"name\":\"vol-1\",\"sizeBytes\":1073741824,\"hosts\":[\"" + HOST_A + "\"]}");
        assertEquals(201, response.statusCode());
        assertEquals("application/json", response.getHeader("Content-Type"));
        JsonNode volume = json(response);
        String id = volume.get("id").asText();
        assertEquals("/api/v1/volumes/" + id, response.getHeader("Location"));
        assertEquals("vol-1", volume.get("name").asText());
        assertEquals(1073741824L, volume.get("sizeBytes").asLong());
        assertEquals(InMemoryVolumeService.NQN, volume.get("nqn").asText());
        assertTrue(volume.get("nsid").asInt() > 0);
        assertEquals(36, volume.get("uuid").asText().length());
        assertEquals(32, volume.get("nguid").asText().length());
        assertEquals(List.of(HOST_A), strings(volume.get("hosts")));
        JsonNode portal = volume.get("portals").get(0);
        assertEquals("tcp", portal.get("transport").asText());
        assertEquals("192.0.2.10", portal.get("address").asText());
        assertEquals(4420, portal.get("port").asInt());
    }

    @Test
    void createWithoutHostsAllowsNoHost() throws Exception {
        JsonNode volume = create("{\"name\":\"private\",\"sizeBytes\":512}");
        assertEquals(List.of(), strings(volume.get("hosts")));
    }

    @Test
    void repeatedHostsAreKeptOnce() throws Exception {
        JsonNode volume = create("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\""
                + HOST_B + "\",\"" + HOST_A + "\",\"" + HOST_B + "\"]}");
        assertEquals(List.of(HOST_B, HOST_A), strings(volume.get("hosts")));
    }

    @Test
    void jsonWithACharsetIsAccepted() throws Exception {
        HttpResponse<Buffer> response = client.post("/api/v1/volumes")
                .putHeader("Content-Type", "application/json; charset=utf-8")
                .sendBuffer(Buffer.buffer("{\"name\":\"v\",\"sizeBytes\":512}"))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(201, response.statusCode());
    }

    @Test
    void getAndListShowCreatedVolumes() throws Exception {
        JsonNode first = create("{\"name\":\"first\",\"sizeBytes\":512}");
        JsonNode second = create("{\"name\":\"second\",\"sizeBytes\":1024}");

        HttpResponse<Buffer> got = send(HttpMethod.GET, "/api/v1/volumes/" + second.get("id").asText(), null);
        assertEquals(200, got.statusCode());
        assertEquals(second, json(got));

        HttpResponse<Buffer> listed = send(HttpMethod.GET, "/api/v1/volumes", null);
        assertEquals(200, listed.statusCode());
        List<String> names = new ArrayList<>();
        json(listed).get("volumes").forEach(v -> names.add(v.get("name").asText()));
        assertEquals(2, names.size());
        assertTrue(names.containsAll(List.of(first.get("name").asText(), "second")));
    }

    @Test
    void unknownVolumeIsNotFound() throws Exception {
        assertError(send(HttpMethod.GET, "/api/v1/volumes/nope", null), 404, null, "nope");
        assertError(send(HttpMethod.DELETE, "/api/v1/volumes/nope", null), 404, null, "nope");
        assertError(send(HttpMethod.PUT, "/api/v1/volumes/nope/hosts", "{\"hosts\":[]}"), 404, null, "nope");
    }

    @Test
    void setHostsReplacesTheAcl() throws Exception {
        String id = create("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"" + HOST_A + "\"]}").get("id").asText();

        HttpResponse<Buffer> response = send(HttpMethod.PUT, "/api/v1/volumes/" + id + "/hosts",
                "{\"hosts\":[\"" + HOST_B + "\"]}");
        assertEquals(200, response.statusCode());
        assertEquals(List.of(HOST_B), strings(json(response).get("hosts")));

        response = send(HttpMethod.PUT, "/api/v1/volumes/" + id + "/hosts", "{\"hosts\":[]}");
        assertEquals(List.of(), strings(json(response).get("hosts")));
        assertEquals(List.of(), strings(json(send(HttpMethod.GET, "/api/v1/volumes/" + id, null)).get("hosts")));
    }

    @Test
    void invalidHostsLeaveTheAclAlone() throws Exception {
        String id = create("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"" + HOST_A + "\"]}").get("id").asText();
        String path = "/api/v1/volumes/" + id + "/hosts";

        assertError(send(HttpMethod.PUT, path, "{}"), 400, "hosts", "required");
        assertError(send(HttpMethod.PUT, path, "{\"hosts\":null}"), 400, "hosts", "array");
        assertError(send(HttpMethod.PUT, path, "{\"hosts\":\"" + HOST_B + "\"}"), 400, "hosts", "array");
        assertError(send(HttpMethod.PUT, path, "{\"hosts\":[\"" + HOST_B + "\",\"bad\"]}"), 400, "hosts", "hosts[1]");
        assertError(send(HttpMethod.PUT, path, "{\"hosts\":[],\"name\":\"x\"}"), 400, "name", "unknown field");
        assertError(send(HttpMethod.PUT, path, "{\"hosts\":["), 400, null, "not valid JSON");
        assertEquals(415, send(HttpMethod.PUT, path, "{\"hosts\":[]}", "text/plain").statusCode());

        assertEquals(List.of(HOST_A), strings(json(send(HttpMethod.GET, "/api/v1/volumes/" + id, null)).get("hosts")));
    }

    @Test
    void deleteRemovesTheVolume() throws Exception {
        String id = create("{\"name\":\"v\",\"sizeBytes\":512}").get("id").asText();

        HttpResponse<Buffer> response = send(HttpMethod.DELETE, "/api/v1/volumes/" + id, null);
        assertEquals(204, response.statusCode());
        assertEquals(0, response.bodyAsBuffer() == null ? 0 : response.bodyAsBuffer().length());
        assertEquals(404, send(HttpMethod.GET, "/api/v1/volumes/" + id, null).statusCode());
        assertEquals(404, send(HttpMethod.DELETE, "/api/v1/volumes/" + id, null).statusCode());
        // The name is free again.
        create("{\"name\":\"v\",\"sizeBytes\":512}");
    }

    static Stream<Arguments> invalidCreateBodies() {
        String name65 = "n".repeat(65);
        String longHost = "nqn.2014-08.com.example:" + "h".repeat(200);
        return Stream.of(
                Arguments.of("{\"name\":\"v\",", null, "not valid JSON"),
                Arguments.of("", null, "empty"),
                Arguments.of("[]", null, "JSON object"),
                Arguments.of("\"v\"", null, "JSON object"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512} {}", null, "not valid JSON"),
                Arguments.of("{\"name\":\"v\",\"name\":\"w\",\"sizeBytes\":512}", null, "Duplicate field"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"size\":1}", "size", "unknown field 'size'"),
                Arguments.of("{\"sizeBytes\":512}", "name", "required"),
                Arguments.of("{\"name\":null,\"sizeBytes\":512}", "name", "required"),
                Arguments.of("{\"name\":7,\"sizeBytes\":512}", "name", "string"),
                Arguments.of("{\"name\":\"\",\"sizeBytes\":512}", "name", "1 to 64"),
                Arguments.of("{\"name\":\"" + name65 + "\",\"sizeBytes\":512}", "name", "1 to 64"),
                Arguments.of("{\"name\":\"a/b\",\"sizeBytes\":512}", "name", "1 to 64"),
                Arguments.of("{\"name\":\"a b\",\"sizeBytes\":512}", "name", "1 to 64"),
                Arguments.of("{\"name\":\"v\"}", "sizeBytes", "required"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":\"512\"}", "sizeBytes", "integer"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512.0}", "sizeBytes", "integer"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":5e3}", "sizeBytes", "integer"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":0}", "sizeBytes", "positive"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":-512}", "sizeBytes", "positive"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":1000}", "sizeBytes", "multiple of 512 bytes"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":" + ((64L << 40) + 512) + "}", "sizeBytes", "64 TiB"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":123456789012345678901234567890}", "sizeBytes", "64 TiB"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":\"" + HOST_A + "\"}", "hosts", "array"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[1]}", "hosts", "hosts[0] must be a string"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"host-a\"]}", "hosts", "hosts[0]"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"nqn.2014-08.com.example\"]}",
                        "hosts", "nqn.yyyy-mm"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"nqn.2014-13.com.example:h\"]}",
                        "hosts", "nqn.yyyy-mm"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"nqn.2014-08.com.example:a b\"]}",
                        "hosts", "nqn.yyyy-mm"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"nqn.2014-08.org.nvmexpress:uuid:xyz\"]}",
                        "hosts", "<uuid>"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"" + longHost + "\"]}",
                        "hosts", "223 bytes"));
    }

    @ParameterizedTest
    @MethodSource("invalidCreateBodies")
    void invalidCreateIsRefusedWithTheFieldAtFaultAndCreatesNothing(String body, String field, String message)
            throws Exception {
        assertError(send(HttpMethod.POST, "/api/v1/volumes", body), 400, field, message);
        assertEquals(0, json(send(HttpMethod.GET, "/api/v1/volumes", null)).get("volumes").size());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "nqn.2014-08.org.nvmexpress:uuid:8b3e5c2a-1f4d-4e6a-9b7c-0d2e4f6a8b1c",
            "nqn.2014-08.com.example:host-b",
            "nqn.2026-11.io.basalt:compute.node-7",
            "nqn.1992-05.com.vendor.storage:nvme:sn-d78432"})
    void validHostNqnsAreAccepted(String host) throws Exception {
        JsonNode volume = create("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"" + host + "\"]}");
        assertEquals(List.of(host), strings(volume.get("hosts")));
    }

    @Test
    void theLargestSizeIsAccepted() throws Exception {
        assertEquals(64L << 40, create("{\"name\":\"big\",\"sizeBytes\":" + (64L << 40) + "}").get("sizeBytes").asLong());
    }

    @Test
    void duplicateNameIsAConflict() throws Exception {
        create("{\"name\":\"v\",\"sizeBytes\":512}");
        assertError(send(HttpMethod.POST, "/api/v1/volumes", "{\"name\":\"v\",\"sizeBytes\":1024}"), 409, "name", "v");
        assertEquals(1, json(send(HttpMethod.GET, "/api/v1/volumes", null)).get("volumes").size());
    }

    @Test
    void concurrentCreatesWithOneNameYieldExactlyOneVolume() throws Exception {
        int attempts = 32;
        List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
        for (int i = 0; i < attempts; i++) {
            responses.add(request(HttpMethod.POST, "/api/v1/volumes", "application/json")
                    .sendBuffer(Buffer.buffer("{\"name\":\"contested\",\"sizeBytes\":" + (512 * (i + 1)) + "}")));
        }
        int created = 0;
        int conflicts = 0;
        for (Future<HttpResponse<Buffer>> response : responses) {
            int status = await(response).statusCode();
            created += status == 201 ? 1 : 0;
            conflicts += status == 409 ? 1 : 0;
        }
        assertEquals(1, created);
        assertEquals(attempts - 1, conflicts);
        assertEquals(1, json(send(HttpMethod.GET, "/api/v1/volumes", null)).get("volumes").size());
    }

    @Test
    void bodiesThatAreNotJsonAreUnsupported() throws Exception {
        String body = "{\"name\":\"v\",\"sizeBytes\":512}";
        assertError(send(HttpMethod.POST, "/api/v1/volumes", body, "text/plain"), 415, null, "application/json");
        assertError(send(HttpMethod.POST, "/api/v1/volumes", body, "application/x-www-form-urlencoded"),
                415, null, "application/json");
        assertError(send(HttpMethod.POST, "/api/v1/volumes", body, null), 415, null, "application/json");
        assertEquals(0, json(send(HttpMethod.GET, "/api/v1/volumes", null)).get("volumes").size());
    }

    @Test
    void unsupportedMethodsAndPathsAnswerInJson() throws Exception {
        assertError(send(HttpMethod.PATCH, "/api/v1/volumes/x", "{}"), 405, null, "PATCH");
        assertError(send(HttpMethod.DELETE, "/api/v1/volumes", null), 405, null, "DELETE");
        assertError(send(HttpMethod.GET, "/api/v1/nothing-here", null), 404, null, "/api/v1/nothing-here");
        assertError(send(HttpMethod.GET, "/elsewhere", null), 404, null, "/elsewhere");
    }

    @Test
    void oversizedBodiesAreRefused() throws Exception {
        String hosts = ("\"" + HOST_B + "\",").repeat(40_000);
        String body = "{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[" + hosts + "\"" + HOST_A + "\"]}";
        assertEquals(413, send(HttpMethod.POST, "/api/v1/volumes", body).statusCode());
        assertEquals(0, json(send(HttpMethod.GET, "/api/v1/volumes", null)).get("volumes").size());
    }

    @Test
    void serviceRejectionsCarryTheirField() throws Exception {
        service.failNextCall(new InvalidVolumeRequestException("sizeBytes", "sizeBytes must be a multiple of 4096"));
        assertError(send(HttpMethod.POST, "/api/v1/volumes", "{\"name\":\"v\",\"sizeBytes\":512}"),
                400, "sizeBytes", "4096");
    }

    @Test
    void serviceFailuresAreInternalErrorsInJson() throws Exception {
        service.failNextCall(new IllegalStateException("disk on fire"));
        assertError(send(HttpMethod.POST, "/api/v1/volumes", "{\"name\":\"v\",\"sizeBytes\":512}"),
                500, null, "disk on fire");
        assertEquals(0, json(send(HttpMethod.GET, "/api/v1/volumes", null)).get("volumes").size());
    }

    @Test
    void routesCanBeAddedNextToTheApi() throws Exception {
        Vertx other = Vertx.vertx();
        try {
            var router = VolumeApi.router(other, service);
            router.get("/metrics").handler(ctx -> ctx.response().end("up 1\n"));
            HttpServer extra = await(other.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
            HttpResponse<Buffer> metrics = await(client.get(extra.actualPort(), "127.0.0.1", "/metrics").send());
            assertEquals("up 1\n", metrics.bodyAsString());
            HttpResponse<Buffer> health = await(client.get(extra.actualPort(), "127.0.0.1", "/api/v1/health").send());
            assertEquals(200, health.statusCode());
        } finally {
            await(other.close());
        }
    }

    private static JsonNode create(String body) throws Exception {
        HttpResponse<Buffer> response = send(HttpMethod.POST, "/api/v1/volumes", body);
        assertEquals(201, response.statusCode(), response.bodyAsString());
        return json(response);
    }

    private static void assertError(HttpResponse<Buffer> response, int status, String field, String messagePart)
            throws Exception {
        assertEquals(status, response.statusCode(), response.bodyAsString());
        assertEquals("application/json", response.getHeader("Content-Type"));
        JsonNode error = json(response);
        assertNotNull(error.get("error"), response.bodyAsString());
        assertTrue(error.get("error").asText().contains(messagePart),
                "'" + error.get("error").asText() + "' should mention '" + messagePart + "'");
        if (field == null) {
            assertFalse(error.has("field"), response.bodyAsString());
        } else {
            assertEquals(field, error.get("field").asText());
        }
    }

    private static HttpResponse<Buffer> send(HttpMethod method, String path, String body) throws Exception {
        return send(method, path, body, body == null ? null : "application/json");
    }

    private static HttpResponse<Buffer> send(HttpMethod method, String path, String body, String contentType)
            throws Exception {
        HttpRequest<Buffer> request = request(method, path, contentType);
        return await(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)));
    }

    private static HttpRequest<Buffer> request(HttpMethod method, String path, String contentType) {
        HttpRequest<Buffer> request = client.request(method, path);
        if (contentType != null) {
            request.putHeader("Content-Type", contentType);
        }
        return request;
    }

    private static JsonNode json(HttpResponse<Buffer> response) throws Exception {
        return JSON.readTree(response.bodyAsString());
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(node -> values.add(node.asText()));
        return values;
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
