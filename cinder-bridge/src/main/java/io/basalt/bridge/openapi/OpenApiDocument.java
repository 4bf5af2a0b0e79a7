package io.basalt.bridge.openapi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The OpenAPI 3 document of the volume API. The resource describes each project-scoped path once,
 * under {@code /api/v1}, marked {@value #PROJECT_SCOPED}; the document served adds its twin under
 * {@code /api/v1/projects/{project}}, so the two can never drift apart.
 */
public final class OpenApiDocument {
    public static final String RESOURCE = "/io/basalt/bridge/openapi/openapi.json";
    /** Where the resource lives in the repository, for people who edit it. */
    public static final String SOURCE = "cinder-bridge/src/main/resources" + RESOURCE;
    static final String PROJECT_SCOPED = "x-basalt-project-scoped";
    static final String BASE_PATH = "/api/v1";
    static final String PROJECT_PREFIX = BASE_PATH + "/projects/{project}";
    private static final String PROJECT_PARAMETER = "#/components/parameters/project";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectNode document;

    private OpenApiDocument(ObjectNode document) {
        this.document = document;
    }

    public static OpenApiDocument load() {
        try (InputStream in = OpenApiDocument.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path");
            }
            return new OpenApiDocument(expand((ObjectNode) JSON.readTree(in)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    /** The document as served: a tree the caller may read but should not change. */
    public JsonNode tree() {
        return document;
    }

    public byte[] toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(document);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree read from JSON can be written as JSON", e);
        }
    }

    /** Twins come right after their originals, so the document reads in the order it was written. */
    private static ObjectNode expand(ObjectNode source) {
        ObjectNode paths = JSON.createObjectNode();
        List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
        source.get("paths").fields().forEachRemaining(entries::add);
        for (Map.Entry<String, JsonNode> entry : entries) {
            ObjectNode item = (ObjectNode) entry.getValue();
            boolean scoped = item.path(PROJECT_SCOPED).asBoolean(false);
            item.remove(PROJECT_SCOPED);
            paths.set(entry.getKey(), item);
            if (scoped) {
                if (!entry.getKey().startsWith(BASE_PATH + "/")) {
                    throw new IllegalStateException(entry.getKey() + " is project-scoped but not under " + BASE_PATH);
                }
                paths.set(PROJECT_PREFIX + entry.getKey().substring(BASE_PATH.length()), projectTwin(item));
            }
        }
        source.set("paths", paths);
        return source;
    }

    private static ObjectNode projectTwin(ObjectNode item) {
        ObjectNode twin = item.deepCopy();
        ArrayNode parameters = JSON.createArrayNode();
        parameters.addObject().put("$ref", PROJECT_PARAMETER);
        if (twin.has("parameters")) {
            parameters.addAll((ArrayNode) twin.get("parameters"));
        }
        twin.set("parameters", parameters);
        twin.fields().forEachRemaining(field -> {
            if (field.getValue().has("operationId")) {
                ObjectNode operation = (ObjectNode) field.getValue();
                operation.put("operationId", operation.get("operationId").asText() + "InProject");
            }
        });
        return twin;
    }
}
