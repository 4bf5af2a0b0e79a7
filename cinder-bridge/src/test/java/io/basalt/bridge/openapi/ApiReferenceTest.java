package io.basalt.bridge.openapi;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/api.md is the rendering of the OpenAPI document, never a hand-edited variant of it. */
class ApiReferenceTest {
    /** Surefire runs in the module's directory. */
    private static final Path REFERENCE = Path.of("..", "docs", "api.md");

    @Test
    void docsApiMdIsTheRenderedDocument() throws Exception {
        String rendered = MarkdownRenderer.render(OpenApiDocument.load().tree());
        assertEquals(rendered, Files.readString(REFERENCE, StandardCharsets.UTF_8),
                "docs/api.md is stale; regenerate it from the repository's root with:\n  "
                        + MarkdownRenderer.REGENERATE);
    }

    @Test
    void theReferenceSaysHowToRegenerateIt() {
        String rendered = MarkdownRenderer.render(OpenApiDocument.load().tree());
        assertTrue(rendered.lines().limit(5).anyMatch(line -> line.contains(MarkdownRenderer.REGENERATE)));
    }

    @Test
    void projectScopedRoutesAreRenderedOnceWithTheirTwin() {
        String rendered = MarkdownRenderer.render(OpenApiDocument.load().tree());
        assertTrue(rendered.contains("### `POST /api/v1/volumes` — Create a volume"), rendered);
        assertTrue(rendered.contains("Also `POST /api/v1/projects/{project}/volumes`"), rendered);
        assertEquals(-1, rendered.indexOf("### `POST /api/v1/projects/"), "twins have no section of their own");
        assertTrue(rendered.contains("| `sizeBytes` | integer | yes | capacity in bytes |"), rendered);
    }
}
