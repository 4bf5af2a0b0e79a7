package io.basalt.bridge.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.basalt.bridge.api.ApiError;
import io.basalt.bridge.api.ClusterNode;
import io.basalt.bridge.api.ClusterNodeList;
import io.basalt.bridge.api.DriveList;
import io.basalt.bridge.api.NodeDrive;
import io.basalt.bridge.api.RebuildStatus;
import io.basalt.bridge.api.ScrubReport;
import io.basalt.bridge.api.ReplaceDriveRequest;
import io.basalt.bridge.api.ClusterOverview;
import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.UpdateVolumeRequest;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Health;
import io.basalt.bridge.api.HostAuthentication;
import io.basalt.bridge.api.NodeStats;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.SnapshotGroup;
import io.basalt.bridge.api.SnapshotGroupList;
import io.basalt.bridge.api.SnapshotList;
import io.basalt.bridge.api.SpaceUsage;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.api.VolumeList;
import io.basalt.bridge.openapi.OpenApiDocument;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.basalt.bridge.http.ApiServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OpenAPI document says what the router does: the same operations, the same fields. */
class OpenApiRoutesTest extends ApiServerTest {
    private static final JsonNode DOCUMENT = OpenApiDocument.load().tree();
    private static final Pattern PATH_PARAMETER = Pattern.compile("\\{(\\w+)}");

    @Test
    void theDocumentIsServedWithoutAToken() throws Exception {
        HttpResponse<Buffer> response = api.send(HttpMethod.GET, "/api/v1/openapi.json", null, null);
        assertEquals(200, response.statusCode());
        assertEquals("application/json", response.getHeader("Content-Type"));
        assertEquals(DOCUMENT, json(response));
        assertTrue(DOCUMENT.get("openapi").asText().startsWith("3.0"));
    }

    @Test
    void everyRouteIsDocumentedAndEveryDocumentedOperationIsRouted() {
        Set<String> routed = new TreeSet<>();
        for (Route route : api.router.getRoutes()) {
            if (route.methods() == null || route.methods().isEmpty() || route.getPath() == null) {
                continue; // Handlers for every method, such as the token check, are not operations.
            }
            String path = route.getPath().replaceAll(":([A-Za-z]+)", "{$1}");
            route.methods().forEach(method -> routed.add(method.name() + " " + path));
        }
        Set<String> documented = new TreeSet<>();
        DOCUMENT.get("paths").fields().forEachRemaining(path -> path.getValue().fieldNames().forEachRemaining(key -> {
            if (Set.of("get", "put", "post", "delete", "patch", "head", "options").contains(key)) {
                documented.add(key.toUpperCase(Locale.ROOT) + " " + path.getKey());
            }
        }));
        assertEquals(documented, routed);
        assertTrue(routed.contains("DELETE /api/v1/projects/{project}/volumes/{id}/hosts/{nqn}"), routed.toString());
        assertTrue(routed.contains("DELETE /api/v1/volumes/{id}/hosts/{nqn}"), routed.toString());
    }

    @Test
    void everyPathParameterIsDeclared() {
        DOCUMENT.get("paths").fields().forEachRemaining(path -> {
            Set<String> declared = new HashSet<>();
            path.getValue().path("parameters").forEach(p -> declared.add(resolve(p).get("name").asText()));
            Set<String> inPath = new HashSet<>();
            Matcher m = PATH_PARAMETER.matcher(path.getKey());
            while (m.find()) {
                inPath.add(m.group(1));
            }
            assertEquals(inPath, declared, path.getKey());
        });
    }

    @Test
    void everySchemaHasTheFieldsOfItsRecord() {
        Map<String, Class<? extends Record>> records = Map.ofEntries(
                Map.entry("Volume", Volume.class),
                Map.entry("Portal", Portal.class),
                Map.entry("SpaceUsage", SpaceUsage.class),
                Map.entry("VolumeList", VolumeList.class),
                Map.entry("Snapshot", Snapshot.class),
                Map.entry("SnapshotList", SnapshotList.class),
                Map.entry("NodeStats", NodeStats.class),
                Map.entry("Health", Health.class),
                Map.entry("Error", ApiError.class),
                Map.entry("CreateVolumeRequest", RequestBodies.CreateVolume.class),
                Map.entry("ExtendVolumeRequest", RequestBodies.ExtendVolume.class),
                Map.entry("UpdateVolumeRequest", RequestBodies.UpdateVolume.class),
                Map.entry("SetHostsRequest", RequestBodies.SetHosts.class),
                Map.entry("Qos", RequestBodies.Qos.class),
                Map.entry("AddHostRequest", RequestBodies.AddHost.class),
                Map.entry("RevertVolumeRequest", RequestBodies.RevertVolume.class),
                Map.entry("CreateSnapshotRequest", RequestBodies.CreateSnapshot.class),
                Map.entry("SnapshotGroup", SnapshotGroup.class),
                Map.entry("SnapshotGroupList", SnapshotGroupList.class),
                Map.entry("CreateSnapshotGroupRequest", RequestBodies.CreateSnapshotGroup.class),
                Map.entry("SetHostSecretsRequest", RequestBodies.SetHostSecrets.class),
                Map.entry("HostAuthentication", HostAuthentication.class),
                Map.entry("ClusterOverview", ClusterOverview.class),
                Map.entry("ClusterNode", ClusterNode.class),
                Map.entry("ClusterNodeList", ClusterNodeList.class),
                Map.entry("DriveList", DriveList.class),
                Map.entry("Drive", NodeDrive.class),
                Map.entry("Rebuild", RebuildStatus.class),
                Map.entry("Scrub", ScrubReport.class),
                Map.entry("ReplaceDriveRequest", ReplaceDriveRequest.class));
        JsonNode schemas = DOCUMENT.get("components").get("schemas");
        Set<String> names = new TreeSet<>();
        schemas.fieldNames().forEachRemaining(names::add);
        assertEquals(new TreeSet<>(records.keySet()), names);
        records.forEach((name, type) -> {
            Set<String> properties = new TreeSet<>();
            schemas.get(name).get("properties").fieldNames().forEachRemaining(properties::add);
            assertEquals(fields(type), properties, name);
        });
        // The port's requests carry the same fields as the bodies that become them.
        assertEquals(fields(CreateVolumeRequest.class), fields(RequestBodies.CreateVolume.class));
        assertEquals(fields(CreateSnapshotRequest.class), fields(RequestBodies.CreateSnapshot.class));
        assertEquals(fields(UpdateVolumeRequest.class), fields(RequestBodies.UpdateVolume.class));
    }

    @Test
    void everyReferenceResolves() {
        DOCUMENT.findValues("$ref").forEach(ref ->
                assertNotNull(resolve(ApiServer.JSON.createObjectNode().put("$ref", ref.asText())), ref.asText()));
        assertFalse(DOCUMENT.toString().contains("x-basalt-project-scoped"), "the marker is not served");
    }

    private static Set<String> fields(Class<? extends Record> type) {
        return new TreeSet<>(Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).toList());
    }

    private static JsonNode resolve(JsonNode node) {
        if (!node.has("$ref")) {
            return node;
        }
        JsonNode target = DOCUMENT;
        for (String part : node.get("$ref").asText().substring(2).split("/")) {
            target = target.get(part);
            if (target == null) {
                return null;
            }
        }
        return target;
    }
}
