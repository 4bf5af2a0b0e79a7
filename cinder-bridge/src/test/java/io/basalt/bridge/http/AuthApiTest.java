package io.basalt.bridge.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.basalt.bridge.http.ApiServer.ADMIN;
import static io.basalt.bridge.http.ApiServer.ALPHA;
import static io.basalt.bridge.http.ApiServer.BETA;
import static io.basalt.bridge.http.ApiServer.HOST_A;
import static io.basalt.bridge.http.ApiServer.assertError;
import static io.basalt.bridge.http.ApiServer.await;
import static io.basalt.bridge.http.ApiServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every project-scoped operation, under both prefixes, as each kind of caller: none, an unknown
 * token, the admin, the project's own token and another project's token.
 */
class AuthApiTest extends ApiServerTest {
    private static final String ALPHA_PREFIX = "/api/v1/projects/alpha";

    /** Objects of project alpha and of the default project, made afresh for each test. */
    private String alphaVolume;
    private String alphaSnapshot;
    private String defaultVolume;
    private String defaultSnapshot;

    /** An operation: path below the prefix with {v}/{s} for the volume and snapshot, body, status on success. */
    record Operation(HttpMethod method, String path, String body, int status) {
        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    @BeforeEach
    void objects() throws Exception {
        alphaVolume = api.create("/api/v1/projects/alpha/volumes", "{\"name\":\"v\",\"sizeBytes\":4096}").get("id").asText();
        alphaSnapshot = api.create("/api/v1/projects/alpha/snapshots", "{\"name\":\"s\",\"sourceVolumeId\":\"" + alphaVolume + "\"}")
                .get("id").asText();
        defaultVolume = api.createVolume("v");
        defaultSnapshot = api.create("/api/v1/snapshots", "{\"name\":\"s\",\"sourceVolumeId\":\"" + defaultVolume + "\"}")
                .get("id").asText();
    }

    static Stream<Operation> operations() {
        return Stream.of(
                new Operation(HttpMethod.POST, "/volumes", "{\"name\":\"new\",\"sizeBytes\":512}", 201),
                new Operation(HttpMethod.GET, "/volumes", null, 200),
                new Operation(HttpMethod.GET, "/volumes/{v}", null, 200),
                new Operation(HttpMethod.PUT, "/volumes/{v}", "{\"sizeBytes\":8192}", 200),
                new Operation(HttpMethod.PATCH, "/volumes/{v}", "{\"compression\":true}", 200),
                new Operation(HttpMethod.DELETE, "/volumes/{v}", null, 204),
                new Operation(HttpMethod.PUT, "/volumes/{v}/hosts", "{\"hosts\":[]}", 200),
                new Operation(HttpMethod.POST, "/volumes/{v}/hosts", "{\"hostNqn\":\"" + HOST_A + "\"}", 200),
                new Operation(HttpMethod.DELETE, "/volumes/{v}/hosts/" + HOST_A, null, 200),
                new Operation(HttpMethod.POST, "/volumes/{v}/revert", "{\"snapshotId\":\"{s}\"}", 200),
                new Operation(HttpMethod.POST, "/snapshots", "{\"name\":\"new\",\"sourceVolumeId\":\"{v}\"}", 201),
                new Operation(HttpMethod.GET, "/snapshots", null, 200),
                new Operation(HttpMethod.GET, "/snapshots/{s}", null, 200),
                new Operation(HttpMethod.DELETE, "/snapshots/{s}", null, 204));
    }

    static Stream<Arguments> operationsUnderBothPrefixes() {
        return operations().flatMap(op -> Stream.of(Arguments.of(op, true), Arguments.of(op, false)));
    }

    @ParameterizedTest(name = "{0}, in project alpha: {1}")
    @MethodSource("operationsUnderBothPrefixes")
    void withoutAValidTokenNothingIsAnsweredButTheChallenge(Operation op, boolean alpha) throws Exception {
        List<HttpResponse<Buffer>> refused = new ArrayList<>();
        refused.add(send(op, alpha, null));
        refused.add(send(op, alpha, "not-a-token"));
        refused.add(send(op, alpha, ADMIN + "x"));
        refused.add(send(op, alpha, ADMIN.substring(1)));
        refused.add(await(api.request(op.method(), path(op, alpha), op.body() == null ? null : "application/json", null)
                .putHeader("Authorization", "Basic " + ADMIN).send()));
        for (HttpResponse<Buffer> response : refused) {
            assertError(response, 401, null, "token");
            assertEquals("Bearer", response.getHeader("WWW-Authenticate"));
        }
        assertObjectsUntouched();
    }

    @ParameterizedTest(name = "{0}, in project alpha: {1}")
    @MethodSource("operationsUnderBothPrefixes")
    void theAdminMayUseEveryProject(Operation op, boolean alpha) throws Exception {
        HttpResponse<Buffer> response = send(op, alpha, ADMIN);
        assertEquals(op.status(), response.statusCode(), response.bodyAsString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("operations")
    void aProjectTokenMayUseItsOwnProject(Operation op) throws Exception {
        HttpResponse<Buffer> response = send(op, true, ALPHA);
        assertEquals(op.status(), response.statusCode(), response.bodyAsString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("operations")
    void anotherProjectsTokenFindsNothingAndChangesNothing(Operation op) throws Exception {
        HttpResponse<Buffer> response = send(op, ALPHA_PREFIX, BETA, alphaVolume, alphaSnapshot);
        assertError(response, 404, null, "");
        if (op.path().contains("{") && op.status() != 204) {
            // The same answer as for objects that do not exist in a project the caller may use.
            HttpResponse<Buffer> missing = send(op, "/api/v1/projects/beta", ADMIN, alphaVolume, alphaSnapshot);
            assertEquals(json(missing), json(response));
        }
        assertObjectsUntouched();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("operations")
    void aProjectTokenIsNotTheDefaultProjects(Operation op) throws Exception {
        assertEquals(404, send(op, false, ALPHA).statusCode());
        assertObjectsUntouched();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/api/v1/health", "/api/v1/openapi.json"})
    void healthAndTheDocumentNeedNoToken(String path) throws Exception {
        assertEquals(200, api.send(HttpMethod.GET, path, null, null).statusCode());
    }

    /** The node's figures cover every project: a project token may not read them (200 before; issue 10, defect 7). */
    @Test
    void statsAreTheAdminsOnly() throws Exception {
        assertEquals(401, api.send(HttpMethod.GET, "/api/v1/stats", null, null).statusCode());
        assertEquals(401, api.send(HttpMethod.GET, "/api/v1/stats", null, "wrong").statusCode());
        ApiServer.assertError(api.send(HttpMethod.GET, "/api/v1/stats", null, ALPHA), 403, null, "admin");
        assertEquals(200, api.send(HttpMethod.GET, "/api/v1/stats", null, ADMIN).statusCode());
    }

    @Test
    void unknownPathsAreNotRevealedWithoutAToken() throws Exception {
        assertEquals(401, api.send(HttpMethod.GET, "/api/v1/nothing-here", null, null).statusCode());
        assertEquals(404, api.send(HttpMethod.GET, "/api/v1/nothing-here", null, ALPHA).statusCode());
    }

    @Test
    void theSchemeIsCaseInsensitive() throws Exception {
        HttpResponse<Buffer> response = await(api.request(HttpMethod.GET, "/api/v1/projects/alpha/volumes", null, null)
                .putHeader("Authorization", "bearer " + ALPHA).send());
        assertEquals(200, response.statusCode());
    }

    private void assertObjectsUntouched() throws Exception {
        assertEquals(4096, json(api.send(HttpMethod.GET, "/api/v1/projects/alpha/volumes/" + alphaVolume, null))
                .get("sizeBytes").asLong());
        assertEquals(200, api.send(HttpMethod.GET, "/api/v1/projects/alpha/snapshots/" + alphaSnapshot, null).statusCode());
        assertEquals(4096, json(api.send(HttpMethod.GET, "/api/v1/volumes/" + defaultVolume, null)).get("sizeBytes").asLong());
        assertEquals(200, api.send(HttpMethod.GET, "/api/v1/snapshots/" + defaultSnapshot, null).statusCode());
        assertEquals(1, api.count("/api/v1/projects/alpha/volumes", "volumes"));
        assertEquals(1, api.count("/api/v1/projects/alpha/snapshots", "snapshots"));
        assertEquals(1, api.count("/api/v1/volumes", "volumes"));
        assertEquals(1, api.count("/api/v1/snapshots", "snapshots"));
    }

    private HttpResponse<Buffer> send(Operation op, boolean alpha, String token) throws Exception {
        return alpha
                ? send(op, ALPHA_PREFIX, token, alphaVolume, alphaSnapshot)
                : send(op, "/api/v1", token, defaultVolume, defaultSnapshot);
    }

    private static HttpResponse<Buffer> send(Operation op, String prefix, String token, String volume, String snapshot)
            throws Exception {
        String body = op.body() == null ? null : op.body().replace("{v}", volume).replace("{s}", snapshot);
        return api.send(op.method(), (prefix + op.path()).replace("{v}", volume).replace("{s}", snapshot), body, token);
    }

    private static String path(Operation op, boolean alpha) {
        return (alpha ? ALPHA_PREFIX : "/api/v1") + op.path();
    }
}
