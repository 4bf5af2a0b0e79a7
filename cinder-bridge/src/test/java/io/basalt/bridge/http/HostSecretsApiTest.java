package io.basalt.bridge.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

import static io.basalt.bridge.http.ApiServer.ALPHA;
import static io.basalt.bridge.http.ApiServer.HOST_A;
import static io.basalt.bridge.http.ApiServer.assertError;
import static io.basalt.bridge.http.ApiServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Host DH-HMAC-CHAP secrets: admin only, never echoed, and the volume flag that requires them. */
class HostSecretsApiTest extends ApiServerTest {
    private static final String SECRET = "DHHC-1:01:bHuByyp0b3RFSx1xQPMVO1HKmUWfzveoahfydpW4fNgSLMVm:";
    private static final String PATH = "/api/v1/hosts/" + URLEncoder.encode(HOST_A, StandardCharsets.UTF_8) + "/dhchap";

    @AfterEach
    void clearSecrets() {
        api.hostSecrets.secrets.clear();
    }

    @Test
    void setGetRemoveWithoutEverShowingTheSecret() throws Exception {
        HttpResponse<Buffer> set = api.send(HttpMethod.PUT, PATH,
                "{\"hostSecret\": \"" + SECRET + "\", \"controllerSecret\": \"" + SECRET + "\"}");
        assertEquals(200, set.statusCode(), set.bodyAsString());
        assertFalse(set.bodyAsString().contains("DHHC-1"), set.bodyAsString());
        assertTrue(json(set).get("bidirectional").asBoolean());
        HttpResponse<Buffer> get = api.send(HttpMethod.GET, PATH, null);
        assertEquals(HOST_A, json(get).get("hostNqn").asText());
        assertFalse(get.bodyAsString().contains("DHHC-1"));
        assertEquals(204, api.send(HttpMethod.DELETE, PATH, null).statusCode());
        assertEquals(404, api.send(HttpMethod.GET, PATH, null).statusCode());
        assertEquals(404, api.send(HttpMethod.DELETE, PATH, null).statusCode());
    }

    @Test
    void projectTokensMayNotManageSecrets() throws Exception {
        for (HttpMethod method : new HttpMethod[] {HttpMethod.PUT, HttpMethod.GET, HttpMethod.DELETE}) {
            HttpResponse<Buffer> r = api.send(method, PATH, method == HttpMethod.PUT
                    ? "{\"hostSecret\": \"" + SECRET + "\"}" : null, ALPHA);
            assertError(r, 403, null, "admin");
        }
        assertTrue(api.hostSecrets.secrets.isEmpty());
    }

    @Test
    void missingOrMalformedSecretsAndNqnsAreRefused() throws Exception {
        assertError(api.send(HttpMethod.PUT, PATH, "{}"), 400, "hostSecret", "required");
        assertError(api.send(HttpMethod.PUT, PATH, "{\"hostSecret\": \"" + "x".repeat(200) + "\"}"), 400, "hostSecret", "at most");
        assertError(api.send(HttpMethod.PUT, PATH, "{\"hostSecret\": \"password\"}"), 400, "hostSecret", "DHHC-1");
        assertEquals(400, api.send(HttpMethod.PUT, "/api/v1/hosts/not-an-nqn/dhchap",
                "{\"hostSecret\": \"" + SECRET + "\"}").statusCode());
        assertTrue(api.hostSecrets.secrets.isEmpty());
    }

    @Test
    void volumeCanRequireAuthentication() throws Exception {
        HttpResponse<Buffer> created = api.send(HttpMethod.POST, "/api/v1/volumes",
                "{\"name\": \"locked\", \"sizeBytes\": 1048576, \"hosts\": [\"" + HOST_A + "\"], \"requireAuthentication\": true}");
        assertEquals(201, created.statusCode(), created.bodyAsString());
        JsonNode volume = json(created);
        assertTrue(volume.get("requireAuthentication").asBoolean());
        HttpResponse<Buffer> plain = api.send(HttpMethod.POST, "/api/v1/volumes",
                "{\"name\": \"open\", \"sizeBytes\": 1048576}");
        assertFalse(json(plain).get("requireAuthentication").asBoolean());
    }
}
