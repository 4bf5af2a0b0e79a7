package io.basalt.bridge.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;
import java.util.List;

import static io.basalt.bridge.http.ApiServer.assertError;
import static io.basalt.bridge.http.ApiServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The snapshot routes, as the admin. */
class SnapshotApiTest extends ApiServerTest {
    private static final String SNAPSHOTS = "/api/v1/snapshots";
    private static final String ALPHA_SNAPSHOTS = "/api/v1/projects/alpha/snapshots";

    @Test
    void createReturnsTheSnapshotAndWhereToFindIt() throws Exception {
        String volume = api.createVolume("v");
        Instant before = Instant.now();
        HttpResponse<Buffer> response = api.send(HttpMethod.POST, SNAPSHOTS,
                "{\"name\":\"s1\",\"sourceVolumeId\":\"" + volume + "\"}");
        assertEquals(201, response.statusCode(), response.bodyAsString());
        JsonNode snapshot = json(response);
        assertEquals(SNAPSHOTS + "/" + snapshot.get("id").asText(), response.getHeader("Location"));
        assertEquals("s1", snapshot.get("name").asText());
        assertEquals("default", snapshot.get("project").asText());
        assertEquals(volume, snapshot.get("sourceVolumeId").asText());
        assertEquals(4096, snapshot.get("sizeBytes").asLong());
        Instant createdAt = Instant.parse(snapshot.get("createdAt").asText());
        assertEquals(false, createdAt.isBefore(before), "createdAt is an ISO-8601 instant of the create");
        assertEquals(0, snapshot.get("space").get("mappedBytes").asLong());
        assertEquals(snapshot, json(api.send(HttpMethod.GET, response.getHeader("Location"), null)));
    }

    @Test
    void listShowsTheProjectsSnapshotsOldestFirstAndFiltersByName() throws Exception {
        String volume = api.createVolume("v");
        api.create(SNAPSHOTS, "{\"name\":\"first\",\"sourceVolumeId\":\"" + volume + "\"}");
        api.create(SNAPSHOTS, "{\"name\":\"second\",\"sourceVolumeId\":\"" + volume + "\"}");

        assertEquals(List.of("first", "second"),
                json(api.send(HttpMethod.GET, SNAPSHOTS, null)).get("snapshots").findValuesAsText("name"));
        assertEquals(List.of("second"),
                json(api.send(HttpMethod.GET, SNAPSHOTS + "?name=second", null)).get("snapshots").findValuesAsText("name"));
        assertEquals(0, api.count(ALPHA_SNAPSHOTS, "snapshots"));
        assertError(api.send(HttpMethod.GET, SNAPSHOTS + "?name=%2F", null), 400, "name", "1 to 64");
    }

    @Test
    void aProjectsSnapshotsAreTakenOfItsOwnVolumes() throws Exception {
        String defaultVolume = api.createVolume("v");
        String alphaVolume = api.create("/api/v1/projects/alpha/volumes", "{\"name\":\"v\",\"sizeBytes\":512}")
                .get("id").asText();

        assertError(api.send(HttpMethod.POST, ALPHA_SNAPSHOTS, "{\"name\":\"s\",\"sourceVolumeId\":\"" + defaultVolume + "\"}"),
                404, null, defaultVolume);
        HttpResponse<Buffer> response = api.send(HttpMethod.POST, ALPHA_SNAPSHOTS,
                "{\"name\":\"s\",\"sourceVolumeId\":\"" + alphaVolume + "\"}");
        assertEquals(201, response.statusCode(), response.bodyAsString());
        String id = json(response).get("id").asText();
        assertEquals(ALPHA_SNAPSHOTS + "/" + id, response.getHeader("Location"));
        assertEquals(404, api.send(HttpMethod.GET, SNAPSHOTS + "/" + id, null).statusCode());
    }

    @Test
    void snapshotsOutliveTheirVolume() throws Exception {
        String volume = api.createVolume("v");
        String id = api.create(SNAPSHOTS, "{\"name\":\"s\",\"sourceVolumeId\":\"" + volume + "\"}").get("id").asText();
        assertEquals(204, api.send(HttpMethod.DELETE, "/api/v1/volumes/" + volume, null).statusCode());
        assertEquals(200, api.send(HttpMethod.GET, SNAPSHOTS + "/" + id, null).statusCode());
    }

    @Test
    void deleteIsIdempotent() throws Exception {
        String volume = api.createVolume("v");
        String id = api.create(SNAPSHOTS, "{\"name\":\"s\",\"sourceVolumeId\":\"" + volume + "\"}").get("id").asText();

        assertEquals(204, api.send(HttpMethod.DELETE, SNAPSHOTS + "/" + id, null).statusCode());
        assertError(api.send(HttpMethod.GET, SNAPSHOTS + "/" + id, null), 404, null, "no snapshot with id " + id);
        assertEquals(204, api.send(HttpMethod.DELETE, SNAPSHOTS + "/" + id, null).statusCode());
        assertEquals(0, api.count(SNAPSHOTS, "snapshots"));
    }

    @Test
    void aSnapshotOfAMissingVolumeIsNotFound() throws Exception {
        assertError(api.send(HttpMethod.POST, SNAPSHOTS, "{\"name\":\"s\",\"sourceVolumeId\":\"nope\"}"), 404, null, "nope");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            "{\"sourceVolumeId\":\"v\"}                          | name           | name is required",
            "{\"name\":\"a b\",\"sourceVolumeId\":\"v\"}         | name           | 1 to 64",
            "{\"name\":\"s\"}                                    | sourceVolumeId | sourceVolumeId is required",
            "{\"name\":\"s\",\"sourceVolumeId\":\"\"}            | sourceVolumeId | empty",
            "{\"name\":\"s\",\"sourceVolumeId\":5}               | sourceVolumeId | must be a string",
            "{\"name\":\"s\",\"sourceVolumeId\":\"v\",\"x\":1}   | x              | unknown field 'x'",
            "{\"name\":\"s\"                                     | -              | not valid JSON"})
    void invalidCreateIsRefusedWithTheFieldAtFault(String body, String field, String message) throws Exception {
        assertError(api.send(HttpMethod.POST, SNAPSHOTS, body), 400, field, message);
        assertEquals(0, api.count(SNAPSHOTS, "snapshots"));
    }
}
