package io.basalt.bridge.openapi;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Renders the OpenAPI document as the Markdown API reference, {@code docs/api.md}, so that the
 * reference cannot say something the served document does not. A project-scoped route and its
 * twin under {@code /api/v1/projects/{project}} are rendered as one section.
 */
public final class MarkdownRenderer {
    /** Run from the repository's root; the docs test prints it when docs/api.md is stale. */
    public static final String REGENERATE = "source bin/java-env && mvn -o -q -pl cinder-bridge compile "
            + "dependency:build-classpath -Dmdep.outputFile=target/classpath.txt && java -cp "
            + "\"cinder-bridge/target/classes:$(cat cinder-bridge/target/classpath.txt)\" "
            + MarkdownRenderer.class.getName() + " docs/api.md";

    private static final List<String> METHODS = List.of("get", "post", "put", "delete");
    private static final String PARAMETERS = "#/components/parameters/";
    private static final String RESPONSES = "#/components/responses/";
    private static final String SCHEMAS = "#/components/schemas/";

    private final JsonNode document;
    private final StringBuilder out = new StringBuilder();

    private MarkdownRenderer(JsonNode document) {
        this.document = document;
    }

    /** Writes the reference to the file named by the only argument. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: MarkdownRenderer OUTPUT.md");
            System.exit(2);
        }
        Files.writeString(Path.of(args[0]), render(OpenApiDocument.load().tree()), StandardCharsets.UTF_8);
    }

    public static String render(JsonNode document) {
        return new MarkdownRenderer(document).render();
    }

    private String render() {
        JsonNode info = document.get("info");
        line("<!-- Generated from " + OpenApiDocument.SOURCE + " by "
                + MarkdownRenderer.class.getName() + "; edit that file, not this one.");
        line("     Regenerate from the repository's root with:");
        line("     " + REGENERATE + " -->");
        line("");
        line("# " + info.get("title").asText() + " (version " + info.get("version").asText() + ")");
        line("");
        line(info.get("description").asText());
        line("");
        line("This reference is rendered from the API's OpenAPI " + document.get("openapi").asText()
                + " document, which every node serves at `GET " + OpenApiDocument.BASE_PATH + "/openapi.json`.");
        line("");
        line("## Routes");
        document.get("paths").fields().forEachRemaining(path -> {
            if (!path.getKey().startsWith(OpenApiDocument.PROJECT_PREFIX)) {
                for (String method : METHODS) {
                    if (path.getValue().has(method)) {
                        operation(path.getKey(), path.getValue(), method);
                    }
                }
            }
        });
        line("");
        line("## Objects");
        document.get("components").get("schemas").fields().forEachRemaining(schema ->
                schema(schema.getKey(), schema.getValue()));
        return out.toString();
    }

    private void operation(String path, JsonNode item, String method) {
        JsonNode operation = item.get(method);
        String verb = method.toUpperCase(Locale.ROOT);
        line("");
        line("### `" + verb + " " + path + "` — " + operation.get("summary").asText());
        line("");
        String twin = OpenApiDocument.PROJECT_PREFIX + path.substring(OpenApiDocument.BASE_PATH.length());
        if (document.get("paths").has(twin)) {
            line("Also `" + verb + " " + twin + "`, for the project `{project}` instead of `default`.");
            line("");
        }
        if (operation.has("security") && operation.get("security").isEmpty()) {
            line("No token needed.");
            line("");
        }
        if (operation.has("description")) {
            line(operation.get("description").asText());
            line("");
        }
        List<JsonNode> parameters = new ArrayList<>();
        item.path("parameters").forEach(p -> parameters.add(resolve(p, PARAMETERS, "parameters")));
        operation.path("parameters").forEach(p -> parameters.add(resolve(p, PARAMETERS, "parameters")));
        if (!parameters.isEmpty()) {
            line("| parameter | in | type | meaning |");
            line("| --- | --- | --- | --- |");
            for (JsonNode p : parameters) {
                row("`" + p.get("name").asText() + "`", p.get("in").asText()
                        + (p.path("required").asBoolean() ? "" : ", optional"),
                        type(p.get("schema")), p.path("description").asText());
            }
            line("");
        }
        if (operation.has("requestBody")) {
            line("Body: " + type(jsonSchema(operation.get("requestBody"))));
            line("");
        }
        line("| status | body | meaning |");
        line("| --- | --- | --- |");
        List<Map.Entry<String, JsonNode>> responses = new ArrayList<>();
        operation.get("responses").fields().forEachRemaining(responses::add);
        responses.sort(Map.Entry.comparingByKey());
        for (Map.Entry<String, JsonNode> response : responses) {
            JsonNode resolved = resolve(response.getValue(), RESPONSES, "responses");
            JsonNode schema = jsonSchema(resolved);
            row(response.getKey(), schema == null ? "none" : type(schema), resolved.get("description").asText());
        }
    }

    private void schema(String name, JsonNode schema) {
        line("");
        line("### " + name);
        line("");
        line(schema.get("description").asText());
        line("");
        line("| field | type | required | meaning |");
        line("| --- | --- | --- | --- |");
        Set<String> required = new HashSet<>();
        schema.path("required").forEach(r -> required.add(r.asText()));
        schema.get("properties").fields().forEachRemaining(property -> {
            JsonNode value = property.getValue();
            String meaning = value.has("$ref")
                    ? resolve(value, SCHEMAS, "schemas").get("description").asText()
                    : value.path("description").asText();
            row("`" + property.getKey() + "`", type(value), required.contains(property.getKey()) ? "yes" : "no", meaning);
        });
        if (schema.has("additionalProperties") && !schema.get("additionalProperties").asBoolean()) {
            line("");
            line("Any other field is refused with 400.");
        }
    }

    private String type(JsonNode schema) {
        if (schema.has("$ref")) {
            String name = schema.get("$ref").asText().substring(SCHEMAS.length());
            return "[" + name + "](#" + name.toLowerCase(Locale.ROOT) + ")";
        }
        String type = schema.get("type").asText();
        if (type.equals("array")) {
            return "array of " + type(schema.get("items"));
        }
        if (schema.has("minimum") && schema.has("maximum")) {
            return type + ", " + schema.get("minimum").asText() + " to " + schema.get("maximum").asText();
        }
        if (schema.has("format") && type.equals("string")) {
            return type + " (" + schema.get("format").asText() + ")";
        }
        return type;
    }

    private static JsonNode jsonSchema(JsonNode withContent) {
        JsonNode schema = withContent.path("content").path("application/json").path("schema");
        return schema.isMissingNode() ? null : schema;
    }

    private JsonNode resolve(JsonNode node, String prefix, String component) {
        if (!node.has("$ref")) {
            return node;
        }
        String ref = node.get("$ref").asText();
        if (!ref.startsWith(prefix)) {
            throw new IllegalArgumentException("unexpected reference " + ref);
        }
        return document.get("components").get(component).get(ref.substring(prefix.length()));
    }

    private void row(String... cells) {
        out.append('|');
        for (String cell : cells) {
            out.append(' ').append(cell.replace("|", "\\|").replace("\n", " ")).append(" |");
        }
        out.append('\n');
    }

    private void line(String text) {
        out.append(text).append('\n');
    }
}
