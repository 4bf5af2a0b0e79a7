package io.basalt.bridge.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /api/v1/drives (with the scrub's report) and POST /api/v1/drives/{index}/replace: the admin's only, validated before the service. */
class DriveRoutesTest extends ApiServerTest {
    @AfterEach
    void freshDrives() {
        api.drives.reset();
    }

    @Test
    void theAdminListsTheDrivesAndReplacesAFailedOne() throws Exception {
        JsonNode list = ApiServer.json(api.send(HttpMethod.GET, "/api/v1/drives", null));
        assertEquals("4+2", list.get("erasureCode").asText());
        assertEquals("failed", list.get("drives").get(2).get("state").asText());
        assertTrue(list.get("drives").get(0).get("reason") == null, "no reason for a drive that is ok: " + list);
        JsonNode scrub = list.get("scrub");
        assertTrue(scrub.get("running").asBoolean(), list.toString());
        assertEquals(FixedDrives.SCRUB.passes(), scrub.get("passes").asLong());
        assertEquals(FixedDrives.SCRUB.scannedBytes(), scrub.get("scannedBytes").asLong());
        assertEquals(FixedDrives.SCRUB.repairedChunks(), scrub.get("repairedChunks").asLong());
        assertEquals(FixedDrives.SCRUB.repairedBytes(), scrub.get("repairedBytes").asLong());
        assertEquals(FixedDrives.SCRUB.unrepairableFound(), scrub.get("unrepairableFound").asLong());
        assertEquals(7, scrub.get("unrepairableSegments").get(0).asInt(), list.toString());

        HttpResponse<Buffer> accepted = api.send(HttpMethod.POST, "/api/v1/drives/2/replace", "{\"path\":\"/dev/new\"}");
        assertEquals(202, accepted.statusCode(), accepted.bodyAsString());
        JsonNode after = ApiServer.json(accepted);
        assertEquals("rebuilding", after.get("drives").get(2).get("state").asText());
        assertEquals("/dev/new", after.get("drives").get(2).get("path").asText());
        assertEquals(2, after.get("rebuild").get("drive").asInt());
        assertEquals(-1, after.get("rebuild").get("etaSeconds").asLong());
    }

    @Test
    void badRequestsAreRefusedWithTheRightStatus() throws Exception {
        assertEquals(403, api.send(HttpMethod.GET, "/api/v1/drives", null, ApiServer.ALPHA).statusCode());
        assertEquals(403, api.send(HttpMethod.POST, "/api/v1/drives/2/replace", "{\"path\":\"/dev/new\"}",
                ApiServer.ALPHA).statusCode());
        assertStatus(400, "/api/v1/drives/2/replace", "{\"path\":\"relative\"}", "absolute path");
        assertStatus(400, "/api/v1/drives/2/replace", "{}", "path is required");
        assertStatus(400, "/api/v1/drives/2/replace", "{\"path\":\"/" + "x".repeat(100) + "\"}", "at most 100 bytes");
        assertStatus(400, "/api/v1/drives/2/replace", "{\"path\":\"/dev/new\",\"force\":true}", "unknown field");
        assertStatus(400, "/api/v1/drives/-1/replace", "{\"path\":\"/dev/new\"}", "a drive index is a number");
        assertStatus(400, "/api/v1/drives/123/replace", "{\"path\":\"/dev/new\"}", "a drive index is a number");
        assertStatus(400, "/api/v1/drives/2/replace", "{\"path\":\"/dev/busy\"}", "not blank");
        assertStatus(404, "/api/v1/drives/9/replace", "{\"path\":\"/dev/new\"}", "no drive with id 9");
        assertStatus(409, "/api/v1/drives/3/replace", "{\"path\":\"/dev/new\"}", "only a failed drive");
        assertEquals("failed", ApiServer.json(api.send(HttpMethod.GET, "/api/v1/drives", null))
                .get("drives").get(2).get("state").asText(), "nothing was replaced");
    }

    private static void assertStatus(int status, String path, String body, String message) throws Exception {
        HttpResponse<Buffer> response = api.send(HttpMethod.POST, path, body);
        assertEquals(status, response.statusCode(), path + " " + body + ": " + response.bodyAsString());
        assertTrue(response.bodyAsString().contains(message), response.bodyAsString());
    }
}
