package io.basalt.service.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.service.StorageNode;
import io.basalt.service.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Grafana dashboard in docs/grafana queries only metrics a live node serves: a renamed or
 * removed metric fails here instead of leaving an empty panel on an operator's screen.
 */
class DashboardMetricsTest {
    private static final Path DASHBOARD = Path.of("..", "docs", "grafana", "basalt-node.json");
    private static final Pattern METRIC = Pattern.compile("\\bbasalt_[a-z0-9_]+");

    @TempDir
    Path dataDir;

    @Test
    void everyMetricTheDashboardQueriesIsServed() throws Exception {
        Set<String> queried = metricsQueriedBy(new ObjectMapper().readTree(DASHBOARD.toFile()));
        assertTrue(queried.size() >= 15, "the dashboard covers the node's metrics: " + queried);

        String served;
        try (StorageNode node = StorageNode.start(ConfigLoader.load(List.of("--data-dir=" + dataDir,
                "--nvme.port=0", "--nvme.discovery-port=0", "--api.port=0",
                "--engine.drive-size=256MiB", "--engine.segment-size=2MiB"), Map.of()))) {
            String token = Files.readString(dataDir.resolve("api-admin-token")).strip();
            URI api = URI.create("http://127.0.0.1:" + node.apiAddress().getPort());
            HttpClient http = HttpClient.newHttpClient();
            // per-volume series exist once there is a volume
            HttpResponse<String> created = http.send(HttpRequest.newBuilder(api.resolve("/api/v1/volumes"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"db\",\"sizeBytes\":1048576}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, created.statusCode(), created.body());
            served = http.send(HttpRequest.newBuilder(api.resolve(PrometheusEndpoint.PATH))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()).body();
        }
        Set<String> missing = new TreeSet<>();
        for (String metric : queried) {
            if (served.lines().noneMatch(line -> line.startsWith(metric + "{") || line.startsWith(metric + " "))) {
                missing.add(metric);
            }
        }
        assertEquals(Set.of(), missing, "queried by the dashboard but not in /metrics:\n" + served);
    }

    /** The metric names in every query string of the dashboard: panel targets and template variables. */
    private static Set<String> metricsQueriedBy(JsonNode node) {
        Set<String> names = new TreeSet<>();
        if (node.isTextual()) {
            Matcher m = METRIC.matcher(node.asText());
            while (m.find()) {
                names.add(m.group());
            }
        }
        for (JsonNode child : node) {
            names.addAll(metricsQueriedBy(child));
        }
        return names;
    }
}
