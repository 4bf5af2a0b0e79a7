package io.basalt.bridge.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static io.basalt.bridge.http.ApiServer.assertError;
import static io.basalt.bridge.http.ApiServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The snapshot group routes, as the admin: shape, validation, project scoping, idempotence. */
class SnapshotGroupApiTest extends ApiServerTest {
    private static final String GROUPS = "/api/v1/snapshot-groups";
    private static final String ALPHA_GROUPS = "/api/v1/projects/alpha/snapshot-groups";

    @Test
    void createReturnsTheGroupWithOneSnapshotPerVolumeInOrder() throws Exception {
        String a = api.createVolume("a");
        String b = api.createVolume("b");
        String body = "{\"name\":\"g\",\"volumeIds\":[\"" + b + "\",\"" + a + "\"]}";
        HttpResponse<Buffer> response = api.send(HttpMethod.POST, GROUPS, body);
        assertEquals(201, response.statusCode(), response.bodyAsString());
        JsonNode group = json(response);
        assertEquals(GROUPS + "/" + group.get("id").asText(), response.getHeader("Location"));
        assertEquals("g", group.get("name").asText());
        assertEquals("default", group.get("project").asText());
        assertEquals(List.of(b, a), group.get("snapshots").findValuesAsText("sourceVolumeId"));
        assertEquals(List.of("g.0", "g.1"), group.get("snapshots").findValuesAsText("name"));
        assertEquals(group, json(api.send(HttpMethod.GET, response.getHeader("Location"), null)));
        JsonNode listed = json(api.send(HttpMethod.GET, GROUPS + "?name=g", null)).get("snapshotGroups");
        assertEquals(1, listed.size());
        assertEquals(group, listed.get(0));

        HttpResponse<Buffer> retry = api.send(HttpMethod.POST, GROUPS, body);
        assertEquals(200, retry.statusCode(), "a retry finds the group it made");
        assertEquals(group, json(retry));
        assertError(api.send(HttpMethod.POST, GROUPS, "{\"name\":\"g\",\"volumeIds\":[\"" + a + "\"]}"),
                409, "name", "already exists");
    }

    @Test
    void deleteRemovesTheMembersAndIsIdempotent() throws Exception {
        String a = api.createVolume("a");
        String id = api.create(GROUPS, "{\"name\":\"g\",\"volumeIds\":[\"" + a + "\"]}").get("id").asText();
        assertEquals(1, api.count("/api/v1/snapshots", "snapshots"));
        assertEquals(204, api.send(HttpMethod.DELETE, GROUPS + "/" + id, null).statusCode());
        assertEquals(0, api.count("/api/v1/snapshots", "snapshots"));
        assertError(api.send(HttpMethod.GET, GROUPS + "/" + id, null), 404, null, "no snapshot group with id " + id);
        assertEquals(204, api.send(HttpMethod.DELETE, GROUPS + "/" + id, null).statusCode());
    }

    @Test
    void aProjectsGroupsAreTakenOfItsOwnVolumes() throws Exception {
        String defaultVolume = api.createVolume("v");
        assertError(api.send(HttpMethod.POST, ALPHA_GROUPS, "{\"name\":\"g\",\"volumeIds\":[\"" + defaultVolume
                + "\"]}"), 404, null, defaultVolume);
        String id = api.create(GROUPS, "{\"name\":\"g\",\"volumeIds\":[\"" + defaultVolume + "\"]}")
                .get("id").asText();
        assertEquals(404, api.send(HttpMethod.GET, ALPHA_GROUPS + "/" + id, null).statusCode());
        assertEquals(0, api.count(ALPHA_GROUPS, "snapshotGroups"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            "{\"volumeIds\":[\"v\"]}                         | name         | name is required",
            "{\"name\":\"g\"}                                | volumeIds    | at least one volume",
            "{\"name\":\"g\",\"volumeIds\":[]}               | volumeIds    | at least one volume",
            "{\"name\":\"g\",\"volumeIds\":[\"v\",\"v\"]}    | volumeIds    | more than once",
            "{\"name\":\"g\",\"volumeIds\":[\"\"]}           | volumeIds[0] | empty",
            "{\"name\":\"g\",\"volumeIds\":[5]}              | volumeIds    | must be",
            "{\"name\":\"g\",\"volumeIds\":\"v\"}            | volumeIds    | must be",
            "{\"name\":\"g\",\"volumeIds\":[\"v\"],\"x\":1}  | x            | unknown field 'x'"})
    void invalidCreateIsRefusedWithTheFieldAtFault(String body, String field, String message) throws Exception {
        assertError(api.send(HttpMethod.POST, GROUPS, body), 400, field, message);
        assertEquals(0, api.count(GROUPS, "snapshotGroups"));
    }

    @Test
    void tooManyVolumesOrTooLongANameIsRefused() throws Exception {
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < 65; i++) {
            ids.append(i == 0 ? "" : ",").append("\"v").append(i).append('"');
        }
        assertError(api.send(HttpMethod.POST, GROUPS, "{\"name\":\"g\",\"volumeIds\":[" + ids + "]}"),
                400, "volumeIds", "at most 64 volumes");
        assertError(api.send(HttpMethod.POST, GROUPS, "{\"name\":\"" + "n".repeat(62) + "\",\"volumeIds\":[\"v\"]}"),
                400, "name", "at most 61 characters");
    }
}
