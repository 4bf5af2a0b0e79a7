package io.basalt.bridge.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.bridge.auth.ApiTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The volume API's real router on a real port over an in-memory service, and a client that speaks to it. */
final class ApiServer {
    static final String ADMIN = "admin-token-0123456789";
    static final String ALPHA = "alpha-token-0123456789";
    static final String BETA = "beta-token-0123456789";
    static final String HOST_A = "nqn.2014-08.org.nvmexpress:uuid:8b3e5c2a-1f4d-4e6a-9b7c-0d2e4f6a8b1c";
    static final String HOST_B = "nqn.2014-08.com.example:host-b";
    static final ObjectMapper JSON = new ObjectMapper();
    /** Shorter than the API's own, so that a test sees a half-sent request closed. */
    static final int IDLE_TIMEOUT_SECONDS = 2;

    final InMemoryVolumeService service = new InMemoryVolumeService();
    final Vertx vertx = Vertx.vertx();
    final InMemoryHostSecrets hostSecrets = new InMemoryHostSecrets();
    final FixedCluster cluster = new FixedCluster();
    final FixedDrives drives = new FixedDrives();
    final Router router;
    private final HttpServer server;
    private final WebClient client;

    /** A node in the cluster {@link FixedCluster} shows. */
    ApiServer() throws Exception {
        this(true);
    }

    /** A node in that cluster, or one that runs alone. */
    ApiServer(boolean inCluster) throws Exception {
        router = VolumeApi.router(vertx, service, hostSecrets, ApiTokens.of(ADMIN, Map.of("alpha", ALPHA, "beta", BETA)),
                inCluster ? Optional.of(cluster) : Optional.empty());
        DriveRoutes.addTo(router, vertx, drives);
        server = await(vertx.createHttpServer(VolumeApi.serverOptions().setIdleTimeout(IDLE_TIMEOUT_SECONDS))
                .requestHandler(router).invalidRequestHandler(VolumeApi::answerInvalidRequest).listen(0, "127.0.0.1"));
        client = WebClient.create(vertx, new WebClientOptions()
                .setDefaultHost("127.0.0.1")
                .setDefaultPort(server.actualPort())
                .setMaxPoolSize(64));
    }

    int port() {
        return server.actualPort();
    }

    void close() throws Exception {
        client.close();
        await(server.close());
        await(vertx.close());
    }

    /** As the admin. */
    HttpResponse<Buffer> send(HttpMethod method, String path, String body) throws Exception {
        return await(start(method, path, body, ADMIN));
    }

    HttpResponse<Buffer> send(HttpMethod method, String path, String body, String token) throws Exception {
        return await(start(method, path, body, token));
    }

    /** Sends without waiting for the answer, so that requests can overlap. */
    Future<HttpResponse<Buffer>> start(HttpMethod method, String path, String body, String token) {
        HttpRequest<Buffer> request = request(method, path, body == null ? null : "application/json", token);
        return body == null ? request.send() : request.sendBuffer(Buffer.buffer(body));
    }

    HttpRequest<Buffer> request(HttpMethod method, String path, String contentType, String token) {
        HttpRequest<Buffer> request = client.request(method, path);
        if (contentType != null) {
            request.putHeader("Content-Type", contentType);
        }
        if (token != null) {
            request.putHeader("Authorization", "Bearer " + token);
        }
        return request;
    }

    /** Creates a volume as the admin, expecting 201. */
    JsonNode create(String path, String body) throws Exception {
        HttpResponse<Buffer> response = send(HttpMethod.POST, path, body);
        assertEquals(201, response.statusCode(), response.bodyAsString());
        return json(response);
    }

    String createVolume(String name) throws Exception {
        return create("/api/v1/volumes", "{\"name\":\"" + name + "\",\"sizeBytes\":4096}").get("id").asText();
    }

    int count(String listPath, String field) throws Exception {
        HttpResponse<Buffer> response = send(HttpMethod.GET, listPath, null);
        assertEquals(200, response.statusCode(), response.bodyAsString());
        return json(response).get(field).size();
    }

    static void assertError(HttpResponse<Buffer> response, int status, String field, String messagePart)
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
            assertEquals(field, error.path("field").asText(), response.bodyAsString());
        }
    }

    static JsonNode json(HttpResponse<Buffer> response) throws Exception {
        return JSON.readTree(response.bodyAsString());
    }

    static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(node -> values.add(node.asText()));
        return values;
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
