package io.basalt.bridge.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.auth.ApiTokens;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static io.basalt.bridge.http.ApiServer.ADMIN;
import static io.basalt.bridge.http.ApiServer.HOST_A;
import static io.basalt.bridge.http.ApiServer.HOST_B;
import static io.basalt.bridge.http.ApiServer.assertError;
import static io.basalt.bridge.http.ApiServer.await;
import static io.basalt.bridge.http.ApiServer.json;
import static io.basalt.bridge.http.ApiServer.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The volume routes, as the admin, under both prefixes. */
class VolumeApiTest extends ApiServerTest {
    private static final String VOLUMES = "/api/v1/volumes";
    private static final String ALPHA_VOLUMES = "/api/v1/projects/alpha/volumes";

    @Test
    void healthSaysOkAndNothingElseWithoutAToken() throws Exception {
        api.createVolume("v1");
        HttpResponse<Buffer> response = api.send(HttpMethod.GET, "/api/v1/health", null, null);
        assertEquals(200, response.statusCode());
        assertEquals(ApiServer.JSON.readTree("{\"status\":\"ok\"}"), json(response));
    }

    @Test
    void createReturnsTheVolumeAndWhereToFindIt() throws Exception {
        HttpResponse<Buffer> response = api.send(HttpMethod.POST, VOLUMES,
                "{\"name\":\"vol-1\",\"sizeBytes\":1073741824,\"hosts\":[\"" + HOST_A + "\"]}");
        assertEquals(201, response.statusCode());
        assertEquals("application/json", response.getHeader("Content-Type"));
        JsonNode volume = json(response);
        String id = volume.get("id").asText();
        assertEquals(VOLUMES + "/" + id, response.getHeader("Location"));
        assertEquals("vol-1", volume.get("name").asText());
        assertEquals("default", volume.get("project").asText());
        assertEquals(1073741824L, volume.get("sizeBytes").asLong());
        assertFalse(volume.get("compression").asBoolean());
        assertEquals(1, volume.get("replicas").asInt());
        assertEquals(InMemoryVolumeService.NQN, volume.get("nqn").asText());
        assertEquals(1, volume.get("nsid").asInt());
        assertEquals(36, volume.get("uuid").asText().length());
        assertEquals(32, volume.get("nguid").asText().length());
        assertEquals(List.of(HOST_A), strings(volume.get("hosts")));
        assertEquals(ApiServer.JSON.readTree("[{\"transport\":\"tcp\",\"address\":\"192.0.2.10\",\"port\":4420}]"),
                volume.get("portals"));
        assertEquals(0, volume.get("space").get("storedBytes").asLong());
        assertFalse(volume.has("sourceSnapshotId"), "null fields are omitted");
        assertFalse(volume.has("sourceVolumeId"), "null fields are omitted");
        assertEquals(volume, json(api.send(HttpMethod.GET, response.getHeader("Location"), null)));
    }

    @Test
    void aProjectsVolumesLiveUnderItsPrefixOnly() throws Exception {
        HttpResponse<Buffer> response = api.send(HttpMethod.POST, ALPHA_VOLUMES, "{\"name\":\"v\",\"sizeBytes\":512}");
        assertEquals(201, response.statusCode(), response.bodyAsString());
        JsonNode volume = json(response);
        String id = volume.get("id").asText();
        assertEquals(ALPHA_VOLUMES + "/" + id, response.getHeader("Location"));
        assertEquals("alpha", volume.get("project").asText());

        assertEquals(volume, json(api.send(HttpMethod.GET, ALPHA_VOLUMES + "/" + id, null)));
        assertEquals(404, api.send(HttpMethod.GET, VOLUMES + "/" + id, null).statusCode());
        assertEquals(0, api.count(VOLUMES, "volumes"));
        assertEquals(0, api.count("/api/v1/projects/beta/volumes", "volumes"));
        assertEquals(1, api.count(ALPHA_VOLUMES, "volumes"));
    }

    @Test
    void theDefaultProjectAnswersUnderBothPrefixes() throws Exception {
        String id = api.createVolume("v");
        assertEquals(200, api.send(HttpMethod.GET, "/api/v1/projects/default/volumes/" + id, null).statusCode());
        assertEquals(1, api.count("/api/v1/projects/default/volumes", "volumes"));
    }

    @Test
    void createWithoutHostsAllowsNoHost() throws Exception {
        assertEquals(List.of(), strings(api.create(VOLUMES, "{\"name\":\"private\",\"sizeBytes\":512}").get("hosts")));
    }

    @Test
    void repeatedHostsAreKeptOnce() throws Exception {
        JsonNode volume = api.create(VOLUMES, "{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\""
                + HOST_B + "\",\"" + HOST_A + "\",\"" + HOST_B + "\"]}");
        assertEquals(List.of(HOST_B, HOST_A), strings(volume.get("hosts")));
    }

    @Test
    void optionalFieldsReachTheService() throws Exception {
        JsonNode volume = api.create(VOLUMES, "{\"name\":\"v\",\"sizeBytes\":512,\"compression\":true,\"replicas\":1}");
        assertEquals(true, volume.get("compression").asBoolean());
        assertEquals(1, volume.get("replicas").asInt());
    }

    @Test
    void jsonWithACharsetIsAccepted() throws Exception {
        HttpResponse<Buffer> response = await(api.request(HttpMethod.POST, VOLUMES, "application/json; charset=utf-8", ADMIN)
                .sendBuffer(Buffer.buffer("{\"name\":\"v\",\"sizeBytes\":512}")));
        assertEquals(201, response.statusCode());
    }

    @Test
    void listShowsTheProjectsVolumesInNsidOrderAndFiltersByName() throws Exception {
        api.createVolume("first");
        api.createVolume("second");
        List<String> names = json(api.send(HttpMethod.GET, VOLUMES, null)).get("volumes").findValuesAsText("name");
        assertEquals(List.of("first", "second"), names);

        JsonNode filtered = json(api.send(HttpMethod.GET, VOLUMES + "?name=second", null)).get("volumes");
        assertEquals(List.of("second"), filtered.findValuesAsText("name"));
        assertEquals(0, api.count(VOLUMES + "?name=third", "volumes"));
        assertError(api.send(HttpMethod.GET, VOLUMES + "?name=a%20b", null), 400, "name", "1 to 64");
        assertError(api.send(HttpMethod.GET, VOLUMES + "?name=", null), 400, "name", "1 to 64");
        assertError(api.send(HttpMethod.GET, VOLUMES + "?name=a&name=b", null), 400, "name", "at most once");
    }

    @Test
    void unknownVolumeIsNotFoundOnEveryRouteThatNamesIt() throws Exception {
        String path = VOLUMES + "/nope";
        assertError(api.send(HttpMethod.GET, path, null), 404, null, "nope");
        assertError(api.send(HttpMethod.PUT, path, "{\"sizeBytes\":1024}"), 404, null, "nope");
        assertError(api.send(HttpMethod.PATCH, path, "{\"compression\":true}"), 404, null, "nope");
        assertError(api.send(HttpMethod.PUT, path + "/hosts", "{\"hosts\":[]}"), 404, null, "nope");
        assertError(api.send(HttpMethod.POST, path + "/hosts", "{\"hostNqn\":\"" + HOST_A + "\"}"), 404, null, "nope");
        assertError(api.send(HttpMethod.DELETE, path + "/hosts/" + HOST_A, null), 404, null, "nope");
        assertError(api.send(HttpMethod.POST, path + "/revert", "{\"snapshotId\":\"s\"}"), 404, null, "nope");
    }

    @Test
    void deleteIsIdempotent() throws Exception {
        String id = api.createVolume("v");

        HttpResponse<Buffer> response = api.send(HttpMethod.DELETE, VOLUMES + "/" + id, null);
        assertEquals(204, response.statusCode());
        assertEquals(0, response.bodyAsBuffer() == null ? 0 : response.bodyAsBuffer().length());
        assertEquals(404, api.send(HttpMethod.GET, VOLUMES + "/" + id, null).statusCode());
        assertEquals(204, api.send(HttpMethod.DELETE, VOLUMES + "/" + id, null).statusCode());
        assertEquals(204, api.send(HttpMethod.DELETE, VOLUMES + "/never-existed", null).statusCode());
        // The name is free again.
        api.createVolume("v");
    }

    @Test
    void extendGrowsAndNeverShrinks() throws Exception {
        String path = VOLUMES + "/" + api.createVolume("v");

        HttpResponse<Buffer> grown = api.send(HttpMethod.PUT, path, "{\"sizeBytes\":8192}");
        assertEquals(200, grown.statusCode(), grown.bodyAsString());
        assertEquals(8192, json(grown).get("sizeBytes").asLong());
        assertEquals(200, api.send(HttpMethod.PUT, path, "{\"sizeBytes\":8192}").statusCode());

        assertError(api.send(HttpMethod.PUT, path, "{\"sizeBytes\":4096}"), 400, "sizeBytes", "smaller");
        assertError(api.send(HttpMethod.PUT, path, "{\"sizeBytes\":8000}"), 400, "sizeBytes", "multiple of 512");
        assertError(api.send(HttpMethod.PUT, path, "{\"sizeBytes\":0}"), 400, "sizeBytes", "positive");
        assertError(api.send(HttpMethod.PUT, path, "{}"), 400, "sizeBytes", "required");
        assertError(api.send(HttpMethod.PUT, path, "{\"sizeBytes\":9216,\"name\":\"w\"}"), 400, "name", "unknown field");
        assertEquals(415, api.request(HttpMethod.PUT, path, "text/plain", ADMIN)
                .sendBuffer(Buffer.buffer("{\"sizeBytes\":9216}")).toCompletionStage().toCompletableFuture()
                .get().statusCode());
        assertEquals(8192, json(api.send(HttpMethod.GET, path, null)).get("sizeBytes").asLong());
    }

    @Test
    void updateRenamesAndSwitchesCompressionLeavingWhatItIsNotGiven() throws Exception {
        String path = VOLUMES + "/" + api.createVolume("v");
        api.createVolume("taken");

        HttpResponse<Buffer> renamed = api.send(HttpMethod.PATCH, path, "{\"name\":\"w\"}");
        assertEquals(200, renamed.statusCode(), renamed.bodyAsString());
        assertEquals("w", json(renamed).get("name").asText());
        assertFalse(json(renamed).get("compression").asBoolean());
        HttpResponse<Buffer> compressed = api.send(HttpMethod.PATCH, path, "{\"compression\":true}");
        assertEquals(200, compressed.statusCode(), compressed.bodyAsString());
        assertTrue(json(compressed).get("compression").asBoolean());
        assertEquals("w", json(compressed).get("name").asText());
        assertEquals(200, api.send(HttpMethod.PATCH, path, "{\"name\":\"w\",\"compression\":true}").statusCode(),
                "asking for what the volume has");

        assertError(api.send(HttpMethod.PATCH, path, "{\"name\":\"taken\"}"), 409, "name", "taken");
        assertError(api.send(HttpMethod.PATCH, path, "{}"), 400, null, "at least one");
        assertError(api.send(HttpMethod.PATCH, path, "{\"name\":\"a/b\"}"), 400, "name", "name must be");
        assertError(api.send(HttpMethod.PATCH, path, "{\"compression\":\"yes\"}"), 400, "compression", "compression");
        assertError(api.send(HttpMethod.PATCH, path, "{\"sizeBytes\":8192}"), 400, "sizeBytes", "unknown field");
        JsonNode after = json(api.send(HttpMethod.GET, path, null));
        assertEquals("w", after.get("name").asText());
        assertTrue(after.get("compression").asBoolean());
    }

    @Test
    void extendBeyondTheNodesCapacityIsInsufficientStorage() throws Exception {
        String path = VOLUMES + "/" + api.createVolume("v");
        api.service.setCapacity(8192);
        assertError(api.send(HttpMethod.PUT, path, "{\"sizeBytes\":16384}"), 507, null, "8192");
        assertError(api.send(HttpMethod.POST, VOLUMES, "{\"name\":\"w\",\"sizeBytes\":8192}"), 507, null, "8192");
        assertEquals(4096, json(api.send(HttpMethod.GET, path, null)).get("sizeBytes").asLong());
    }

    @Test
    void setHostsReplacesTheAcl() throws Exception {
        String id = api.create(VOLUMES, "{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"" + HOST_A + "\"]}").get("id").asText();

        HttpResponse<Buffer> response = api.send(HttpMethod.PUT, VOLUMES + "/" + id + "/hosts", "{\"hosts\":[\"" + HOST_B + "\"]}");
        assertEquals(200, response.statusCode());
        assertEquals(List.of(HOST_B), strings(json(response).get("hosts")));

        response = api.send(HttpMethod.PUT, VOLUMES + "/" + id + "/hosts", "{\"hosts\":[]}");
        assertEquals(List.of(), strings(json(response).get("hosts")));
        assertEquals(List.of(), strings(json(api.send(HttpMethod.GET, VOLUMES + "/" + id, null)).get("hosts")));
    }

    @Test
    void qosIsSetOnCreateShownAndReplacedInPlace() throws Exception {
        JsonNode created = api.create(ALPHA_VOLUMES, "{\"name\":\"v\",\"sizeBytes\":512,"
                + "\"qos\":{\"readIops\":500,\"writeBytesPerSec\":1048576,\"burstSeconds\":5}}");
        assertEquals(ApiServer.JSON.readTree("{\"totalIops\":0,\"readIops\":500,\"writeIops\":0,"
                + "\"totalBytesPerSec\":0,\"readBytesPerSec\":0,\"writeBytesPerSec\":1048576,\"burstSeconds\":5}"),
                created.get("qos"));
        String path = ALPHA_VOLUMES + "/" + created.get("id").asText();

        HttpResponse<Buffer> response = api.send(HttpMethod.PUT, path + "/qos", "{\"totalIops\":100}");
        assertEquals(200, response.statusCode(), response.bodyAsString());
        assertEquals(100, json(response).get("qos").get("totalIops").asLong());
        assertEquals(0, json(response).get("qos").get("readIops").asLong(), "a missing limit is no limit");
        assertEquals(json(response), json(api.send(HttpMethod.GET, path, null)));

        assertEquals(0, api.create(VOLUMES, "{\"name\":\"plain\",\"sizeBytes\":512}").get("qos")
                .get("totalIops").asLong(), "a volume created without limits shows them all 0");
    }

    @Test
    void invalidQosIsRefusedFieldByFieldAndChangesNothing() throws Exception {
        String id = api.create(VOLUMES, "{\"name\":\"v\",\"sizeBytes\":512,\"qos\":{\"totalIops\":7}}")
                .get("id").asText();
        String path = VOLUMES + "/" + id + "/qos";

        assertError(api.send(HttpMethod.PUT, path, "{\"readIops\":-1}"), 400, "readIops", "from 0 (no limit)");
        assertError(api.send(HttpMethod.PUT, path, "{\"writeBytesPerSec\":9223372036854775808}"), 400,
                "writeBytesPerSec", "9223372036854775807");
        assertError(api.send(HttpMethod.PUT, path, "{\"burstSeconds\":3601}"), 400, "burstSeconds", "3600");
        assertError(api.send(HttpMethod.PUT, path, "{\"totalIops\":\"many\"}"), 400, "totalIops", "an integer");
        assertError(api.send(HttpMethod.PUT, path, "{\"iops\":5}"), 400, "iops", "unknown field");
        assertError(api.send(HttpMethod.PUT, VOLUMES + "/nope/qos", "{}"), 404, null, "nope");
        assertError(api.send(HttpMethod.POST, VOLUMES, "{\"name\":\"w\",\"sizeBytes\":512,\"qos\":{\"readIops\":-5}}"),
                400, "qos.readIops", "qos.readIops must be");
        assertError(api.send(HttpMethod.POST, VOLUMES, "{\"name\":\"w\",\"sizeBytes\":512,\"qos\":{\"readIops\":1.5}}"),
                400, "qos.readIops", "qos.readIops must be an integer");

        assertEquals(7, json(api.send(HttpMethod.GET, VOLUMES + "/" + id, null)).get("qos").get("totalIops").asLong());
        assertEquals(1, api.count(VOLUMES, "volumes"));
    }

    @Test
    void invalidHostsLeaveTheAclAlone() throws Exception {
        String id = api.create(VOLUMES, "{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"" + HOST_A + "\"]}").get("id").asText();
        String path = VOLUMES + "/" + id + "/hosts";

        assertError(api.send(HttpMethod.PUT, path, "{}"), 400, "hosts", "required");
        assertError(api.send(HttpMethod.PUT, path, "{\"hosts\":null}"), 400, "hosts", "required");
        assertError(api.send(HttpMethod.PUT, path, "{\"hosts\":\"" + HOST_B + "\"}"), 400, "hosts", "array");
        assertError(api.send(HttpMethod.PUT, path, "{\"hosts\":[\"" + HOST_B + "\",\"bad\"]}"), 400, "hosts", "hosts[1]");
        assertError(api.send(HttpMethod.PUT, path, "{\"hosts\":[\"" + HOST_B + "\",null]}"), 400, "hosts", "hosts[1] must be a string");
        assertError(api.send(HttpMethod.PUT, path, "{\"hosts\":[],\"name\":\"x\"}"), 400, "name", "unknown field");
        assertError(api.send(HttpMethod.PUT, path, "{\"hosts\":["), 400, null, "not valid JSON");
        assertEquals(415, await(api.request(HttpMethod.PUT, path, "text/plain", ADMIN)
                .sendBuffer(Buffer.buffer("{\"hosts\":[]}"))).statusCode());

        assertEquals(List.of(HOST_A), strings(json(api.send(HttpMethod.GET, VOLUMES + "/" + id, null)).get("hosts")));
    }

    @Test
    void addHostIsIdempotent() throws Exception {
        String path = VOLUMES + "/" + api.createVolume("v") + "/hosts";
        String body = "{\"hostNqn\":\"" + HOST_A + "\"}";

        HttpResponse<Buffer> response = api.send(HttpMethod.POST, path, body);
        assertEquals(200, response.statusCode(), response.bodyAsString());
        assertEquals(List.of(HOST_A), strings(json(response).get("hosts")));
        assertEquals(List.of(HOST_A), strings(json(api.send(HttpMethod.POST, path, body)).get("hosts")));
        assertEquals(List.of(HOST_A, HOST_B),
                strings(json(api.send(HttpMethod.POST, path, "{\"hostNqn\":\"" + HOST_B + "\"}")).get("hosts")));
    }

    /**
     * A volume allows at most VolumeService.MAX_HOSTS hosts: a longer list is refused (400), and so is one
     * more host (409), while a host already allowed is still no error; the list stays as it was.
     */
    @Test
    void aVolumeAllowsAtMostMaxHostsHosts() throws Exception {
        String id = api.createVolume("v");
        String path = VOLUMES + "/" + id + "/hosts";
        List<String> most = new java.util.ArrayList<>();
        for (int i = 0; i < VolumeService.MAX_HOSTS; i++) {
            most.add("nqn.2014-08.org.example:host-" + i);
        }
        String tooMany = "nqn.2014-08.org.example:one-too-many";
        List<String> more = new java.util.ArrayList<>(most);
        more.add(tooMany);
        assertError(api.send(HttpMethod.PUT, path, hostsBody(more)), 400, "hosts", "at most " + VolumeService.MAX_HOSTS);
        assertError(api.send(HttpMethod.POST, VOLUMES, "{\"name\":\"w\",\"sizeBytes\":512,"
                + hostsBody(more).substring(1)), 400, "hosts", "at most " + VolumeService.MAX_HOSTS);

        assertEquals(most, strings(json(api.send(HttpMethod.PUT, path, hostsBody(most))).get("hosts")));
        assertError(api.send(HttpMethod.POST, path, "{\"hostNqn\":\"" + tooMany + "\"}"), 409, "hostNqn", "remove one first");
        HttpResponse<Buffer> again = api.send(HttpMethod.POST, path, "{\"hostNqn\":\"" + most.get(0) + "\"}");
        assertEquals(200, again.statusCode(), again.bodyAsString());
        assertEquals(most, strings(json(api.send(HttpMethod.GET, VOLUMES + "/" + id, null)).get("hosts")));
    }

    private static String hostsBody(List<String> hosts) {
        return "{\"hosts\":[" + String.join(",", hosts.stream().map(h -> "\"" + h + "\"").toList()) + "]}";
    }

    @Test
    void invalidHostToAddIsRefused() throws Exception {
        String path = VOLUMES + "/" + api.createVolume("v") + "/hosts";
        assertError(api.send(HttpMethod.POST, path, "{}"), 400, "hostNqn", "required");
        assertError(api.send(HttpMethod.POST, path, "{\"hostNqn\":\"host-a\"}"), 400, "hostNqn", "not a valid host NQN");
        assertError(api.send(HttpMethod.POST, path, "{\"hostNqn\":[\"" + HOST_A + "\"]}"), 400, "hostNqn", "must be a string");
        assertError(api.send(HttpMethod.POST, path, "{\"hosts\":[\"" + HOST_A + "\"]}"), 400, "hosts", "unknown field 'hosts'");
    }

    @Test
    void removeHostTakesAnUrlEncodedNqnAndIsIdempotent() throws Exception {
        String id = api.create(VOLUMES, "{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"" + HOST_A + "\",\"" + HOST_B + "\"]}")
                .get("id").asText();
        String path = VOLUMES + "/" + id + "/hosts/" + URLEncoder.encode(HOST_A, StandardCharsets.UTF_8);

        HttpResponse<Buffer> response = api.send(HttpMethod.DELETE, path, null);
        assertEquals(200, response.statusCode(), response.bodyAsString());
        assertEquals(List.of(HOST_B), strings(json(response).get("hosts")));
        assertEquals(List.of(HOST_B), strings(json(api.send(HttpMethod.DELETE, path, null)).get("hosts")));
        assertEquals(List.of(), strings(json(api.send(HttpMethod.DELETE, VOLUMES + "/" + id + "/hosts/" + HOST_B, null))
                .get("hosts")));
        assertError(api.send(HttpMethod.DELETE, VOLUMES + "/" + id + "/hosts/not-an-nqn", null), 400, "nqn",
                "not a valid host NQN");
    }

    @Test
    void revertTakesOneOfTheVolumesOwnSnapshots() throws Exception {
        String id = api.createVolume("v");
        String other = api.createVolume("w");
        String snapshot = api.create("/api/v1/snapshots", "{\"name\":\"s\",\"sourceVolumeId\":\"" + id + "\"}").get("id").asText();
        String otherSnapshot = api.create("/api/v1/snapshots", "{\"name\":\"t\",\"sourceVolumeId\":\"" + other + "\"}")
                .get("id").asText();
        String path = VOLUMES + "/" + id + "/revert";

        HttpResponse<Buffer> response = api.send(HttpMethod.POST, path, "{\"snapshotId\":\"" + snapshot + "\"}");
        assertEquals(200, response.statusCode(), response.bodyAsString());
        assertEquals(id, json(response).get("id").asText());

        assertError(api.send(HttpMethod.POST, path, "{\"snapshotId\":\"" + otherSnapshot + "\"}"), 400, "snapshotId", "not taken of");
        assertError(api.send(HttpMethod.POST, path, "{\"snapshotId\":\"nope\"}"), 404, null, "snapshot");
        assertError(api.send(HttpMethod.POST, path, "{}"), 400, "snapshotId", "required");
        assertError(api.send(HttpMethod.POST, path, "{\"snapshotId\":\"\"}"), 400, "snapshotId", "empty");
    }

    @Test
    void aVolumeCanStartFromAVolumeOrASnapshot() throws Exception {
        String source = api.createVolume("source");
        String snapshot = api.create("/api/v1/snapshots", "{\"name\":\"s\",\"sourceVolumeId\":\"" + source + "\"}")
                .get("id").asText();

        JsonNode clone = api.create(VOLUMES, "{\"name\":\"clone\",\"sizeBytes\":0,\"sourceVolumeId\":\"" + source + "\"}");
        assertEquals(4096, clone.get("sizeBytes").asLong(), "0 takes the source's size");
        assertEquals(source, clone.get("sourceVolumeId").asText());
        assertFalse(clone.has("sourceSnapshotId"));

        JsonNode restored = api.create(VOLUMES, "{\"name\":\"restored\",\"sizeBytes\":8192,\"sourceSnapshotId\":\"" + snapshot + "\"}");
        assertEquals(8192, restored.get("sizeBytes").asLong());
        assertEquals(snapshot, restored.get("sourceSnapshotId").asText());

        assertError(api.send(HttpMethod.POST, VOLUMES, "{\"name\":\"x\",\"sizeBytes\":0,\"sourceSnapshotId\":\"nope\"}"),
                404, null, "nope");
        assertError(api.send(HttpMethod.POST, VOLUMES, "{\"name\":\"x\",\"sizeBytes\":1024,\"sourceVolumeId\":\"" + source + "\"}"),
                400, "sizeBytes", "smaller");
        assertError(api.send(HttpMethod.POST, ALPHA_VOLUMES, "{\"name\":\"x\",\"sizeBytes\":0,\"sourceVolumeId\":\"" + source + "\"}"),
                404, null, source);
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
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"size\":1}", "size", "allowed fields: compression, hosts, name"),
                Arguments.of("{\"sizeBytes\":512}", "name", "required"),
                Arguments.of("{\"name\":null,\"sizeBytes\":512}", "name", "required"),
                Arguments.of("{\"name\":7,\"sizeBytes\":512}", "name", "name must be a string"),
                Arguments.of("{\"name\":true,\"sizeBytes\":512}", "name", "name must be a string"),
                Arguments.of("{\"name\":\"\",\"sizeBytes\":512}", "name", "1 to 64"),
                Arguments.of("{\"name\":\"" + name65 + "\",\"sizeBytes\":512}", "name", "1 to 64"),
                Arguments.of("{\"name\":\"a/b\",\"sizeBytes\":512}", "name", "1 to 64"),
                Arguments.of("{\"name\":\"a b\",\"sizeBytes\":512}", "name", "1 to 64"),
                Arguments.of("{\"name\":\"v\"}", "sizeBytes", "required"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":\"512\"}", "sizeBytes", "sizeBytes must be an integer"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512.0}", "sizeBytes", "sizeBytes must be an integer"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":5e3}", "sizeBytes", "sizeBytes must be an integer"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":0}", "sizeBytes", "positive"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":-512}", "sizeBytes", "positive"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":-512,\"sourceVolumeId\":\"x\"}", "sizeBytes", "positive"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":1000}", "sizeBytes", "multiple of 512 bytes"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":" + ((64L << 40) + 512) + "}", "sizeBytes", "64 TiB"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":123456789012345678901234567890}", "sizeBytes", "64 TiB"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":\"" + HOST_A + "\"}", "hosts", "hosts must be an array"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[1]}", "hosts", "hosts[0] must be a string"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"host-a\"]}", "hosts", "hosts[0]"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"nqn.2014-08.com.example\"]}",
                        "hosts", "nqn.yyyy-mm"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"nqn.2014-13.com.example:h\"]}",
                        "hosts", "nqn.yyyy-mm"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"nqn.2014-08.com.example:a b\"]}",
                        "hosts", "nqn.yyyy-mm"),
                // Line terminators the target's Connect refuses; the API accepted them before (issue 10, item 8)
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"nqn.2014-08.com.example:a\\u2028b\"]}",
                        "hosts", "nqn.yyyy-mm"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"nqn.2014-08.com.example:a\\u0085b\"]}",
                        "hosts", "nqn.yyyy-mm"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"nqn.2014-08.org.nvmexpress:uuid:xyz\"]}",
                        "hosts", "<uuid>"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"" + longHost + "\"]}",
                        "hosts", "223 bytes"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"compression\":\"yes\"}", "compression", "true or false"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"compression\":1}", "compression", "true or false"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"replicas\":0}", "replicas", "1 to 3"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"replicas\":4}", "replicas", "1 to 3"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"replicas\":1.5}", "replicas", "an integer"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"replicas\":99999999999}", "replicas", "an integer"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"sourceVolumeId\":\"\"}", "sourceVolumeId", "empty"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":512,\"sourceSnapshotId\":\"\"}", "sourceSnapshotId", "empty"),
                Arguments.of("{\"name\":\"v\",\"sizeBytes\":0,\"sourceSnapshotId\":\"a\",\"sourceVolumeId\":\"b\"}",
                        "sourceVolumeId", "at most one"));
    }

    @ParameterizedTest
    @MethodSource("invalidCreateBodies")
    void invalidCreateIsRefusedWithTheFieldAtFaultAndCreatesNothing(String body, String field, String message)
            throws Exception {
        assertError(api.send(HttpMethod.POST, VOLUMES, body), 400, field, message);
        assertEquals(0, api.count(VOLUMES, "volumes"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "nqn.2014-08.org.nvmexpress:uuid:8b3e5c2a-1f4d-4e6a-9b7c-0d2e4f6a8b1c",
            "nqn.2014-08.com.example:host-b",
            "nqn.2026-11.io.basalt:compute.node-7",
            "nqn.1992-05.com.vendor.storage:nvme:sn-d78432"})
    void validHostNqnsAreAccepted(String host) throws Exception {
        JsonNode volume = api.create(VOLUMES, "{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[\"" + host + "\"]}");
        assertEquals(List.of(host), strings(volume.get("hosts")));
    }

    @Test
    void theLargestSizeIsAccepted() throws Exception {
        assertEquals(64L << 40, api.create(VOLUMES, "{\"name\":\"big\",\"sizeBytes\":" + (64L << 40) + "}")
                .get("sizeBytes").asLong());
    }

    @ParameterizedTest
    @ValueSource(strings = {"a%20b", "x%2Fy", "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"})
    void invalidProjectNamesAreRefused(String project) throws Exception {
        assertError(api.send(HttpMethod.GET, "/api/v1/projects/" + project + "/volumes", null), 400, "project", "1 to 64");
    }

    @Test
    void bodiesThatAreNotJsonAreUnsupported() throws Exception {
        Buffer body = Buffer.buffer("{\"name\":\"v\",\"sizeBytes\":512}");
        assertError(await(api.request(HttpMethod.POST, VOLUMES, "text/plain", ADMIN).sendBuffer(body)),
                415, null, "application/json");
        assertError(await(api.request(HttpMethod.POST, VOLUMES, "application/x-www-form-urlencoded", ADMIN).sendBuffer(body)),
                415, null, "application/json");
        assertError(await(api.request(HttpMethod.POST, VOLUMES, null, ADMIN).sendBuffer(body)), 415, null, "application/json");
        assertEquals(0, api.count(VOLUMES, "volumes"));
    }

    @Test
    void unsupportedMethodsAndPathsAnswerInJson() throws Exception {
        assertError(api.send(HttpMethod.PATCH, VOLUMES + "/x/qos", "{}"), 405, null, "PATCH");
        assertError(api.send(HttpMethod.DELETE, VOLUMES, null), 405, null, "DELETE");
        assertError(api.send(HttpMethod.DELETE, ALPHA_VOLUMES, null), 405, null, "DELETE");
        assertError(api.send(HttpMethod.GET, "/api/v1/nothing-here", null), 404, null, "/api/v1/nothing-here");
        assertError(api.send(HttpMethod.GET, "/elsewhere", null, null), 404, null, "/elsewhere");
    }

    @Test
    void oversizedBodiesAreRefused() throws Exception {
        String hosts = ("\"" + HOST_B + "\",").repeat(40_000);
        String body = "{\"name\":\"v\",\"sizeBytes\":512,\"hosts\":[" + hosts + "\"" + HOST_A + "\"]}";
        assertError(api.send(HttpMethod.POST, VOLUMES, body), 413, null, "larger than");
        assertEquals(0, api.count(VOLUMES, "volumes"));
    }

    @Test
    void serviceRejectionsCarryTheirField() throws Exception {
        api.service.failNextCall(new InvalidVolumeRequestException("sizeBytes", "sizeBytes must be a multiple of 4096"));
        assertError(api.send(HttpMethod.POST, VOLUMES, "{\"name\":\"v\",\"sizeBytes\":512}"), 400, "sizeBytes", "4096");
        assertError(api.send(HttpMethod.POST, VOLUMES, "{\"name\":\"v\",\"sizeBytes\":512,\"replicas\":2}"),
                400, "replicas", "single node");
    }

    /** The body says nothing of the node's insides (it named Java classes before; issue 10, item 8). */
    @Test
    void serviceFailuresAreInternalErrorsInJson() throws Exception {
        api.service.failNextCall(new NullPointerException("Cannot invoke \"java.util.List.size()\" because \"hosts\" is null"));
        HttpResponse<Buffer> response = api.send(HttpMethod.POST, VOLUMES, "{\"name\":\"v\",\"sizeBytes\":512}");
        assertError(response, 500, null, "internal error");
        assertFalse(response.bodyAsString().contains("java."), response.bodyAsString());
        assertEquals(0, api.count(VOLUMES, "volumes"));
    }

    @Test
    void statsDescribeTheNode() throws Exception {
        api.createVolume("v");
        api.create(ALPHA_VOLUMES, "{\"name\":\"w\",\"sizeBytes\":8192}");
        HttpResponse<Buffer> response = api.send(HttpMethod.GET, "/api/v1/stats", null);
        assertEquals(200, response.statusCode(), response.bodyAsString());
        JsonNode stats = json(response);
        assertEquals(2, stats.get("volumes").asInt());
        assertEquals(0, stats.get("snapshots").asInt());
        assertEquals(4096 + 8192, stats.get("provisionedBytes").asLong());
        assertEquals(InMemoryVolumeService.DEFAULT_CAPACITY, stats.get("totalBytes").asLong());
        assertEquals(1.0, stats.get("maxOversubscriptionRatio").asDouble());
    }

    @Test
    void routesCanBeAddedNextToTheApiBehindTheSameTokens() throws Exception {
        Vertx other = Vertx.vertx();
        try {
            ApiTokens tokens = ApiTokens.of(ADMIN, Map.of("alpha", ApiServer.ALPHA));
            Router router = VolumeApi.router(other, api.service, api.hostSecrets, tokens, Optional.empty());
            router.get("/metrics").handler(tokens.requireValidToken()).handler(ctx -> ctx.response().end("up 1\n"));
            HttpServer extra = await(other.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
            WebClient client = WebClient.create(other);
            HttpResponse<Buffer> metrics = await(client.get(extra.actualPort(), "127.0.0.1", "/metrics")
                    .bearerTokenAuthentication(ApiServer.ALPHA).send());
            assertEquals("up 1\n", metrics.bodyAsString());
            HttpResponse<Buffer> anonymous = await(client.get(extra.actualPort(), "127.0.0.1", "/metrics").send());
            assertError(anonymous, 401, null, "bearer token");
            assertEquals("Bearer", anonymous.getHeader("WWW-Authenticate"));
            assertNull(anonymous.getHeader("Location"));
            assertEquals(200, await(client.get(extra.actualPort(), "127.0.0.1", "/api/v1/health").send()).statusCode());
        } finally {
            await(other.close());
        }
    }
}
