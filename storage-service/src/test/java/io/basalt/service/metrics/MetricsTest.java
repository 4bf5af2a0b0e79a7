package io.basalt.service.metrics;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.target.IoObserver;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    @AfterEach
    void close() {
        registry.close();
    }

    @Test
    void completionsAreCountedPerVolumeAndOperation() {
        VolumeIoMetrics metrics = new VolumeIoMetrics(registry);
        IoObserver observer = metrics.observerFor("id-1", "db");
        observer.completed(Opcodes.IO_READ, 4096, 100_000, Status.SUCCESS);
        observer.completed(Opcodes.IO_READ, 8192, 300_000, Status.SUCCESS);
        observer.completed(Opcodes.IO_WRITE, 512, 50_000, Status.WRITE_FAULT);
        observer.completed(Opcodes.IO_FLUSH, 0, 1_000_000, Status.SUCCESS);
        observer.completed(Opcodes.IO_DATASET_MANAGEMENT, 0, 10_000, Status.SUCCESS);

        String scrape = registry.scrape();
        assertSample(scrape, "basalt_volume_io_latency_seconds_count", "read", "2");
        assertSample(scrape, "basalt_volume_io_latency_seconds_sum", "read", "4.0E-4");
        assertSample(scrape, "basalt_volume_io_bytes_total", "read", "12288.0");
        assertSample(scrape, "basalt_volume_io_errors_total", "read", "0.0");
        assertSample(scrape, "basalt_volume_io_errors_total", "write", "1.0");
        assertSample(scrape, "basalt_volume_io_latency_seconds_count", "flush", "1");
        assertSample(scrape, "basalt_volume_io_latency_seconds_count", "dataset_management", "1");
        assertSample(scrape, "basalt_volume_io_latency_seconds_count", "write_zeroes", "0");
    }

    @Test
    void aVolumeHasOneObserverAndLosesItsMetersWhenDeleted() {
        VolumeIoMetrics metrics = new VolumeIoMetrics(registry);
        IoObserver observer = metrics.observerFor("id-1", "db");
        assertSame(observer, metrics.observerFor("id-1", "db"));
        metrics.observerFor("id-2", "logs");

        metrics.volumeDeleted("id-1");

        String scrape = registry.scrape();
        assertFalse(scrape.contains("volume=\"id-1\""), scrape);
        assertTrue(scrape.contains("volume=\"id-2\""), scrape);
    }

    @Test
    void nodeGaugesReadTheirSourcesAtScrapeTime() {
        AtomicInteger connections = new AtomicInteger();
        NodeGauges.register(registry, connections::get, () -> 6, () -> 2, () -> 3);
        connections.set(4);
        System.gc(); // gauges must hold their suppliers strongly

        String scrape = registry.scrape();
        assertTrue(scrape.contains("basalt_nvme_connections 4.0"), scrape);
        assertTrue(scrape.contains("basalt_nvme_queue_pairs 6.0"), scrape);
        assertTrue(scrape.contains("basalt_nvme_controllers 2.0"), scrape);
        assertTrue(scrape.contains("basalt_volumes 3.0"), scrape);
    }

    @Test
    void theEndpointServesTheTextFormat() throws Exception {
        NodeGauges.register(registry, () -> 1, () -> 1, () -> 1, () -> 0);
        Vertx vertx = Vertx.vertx();
        try {
            Router router = Router.router(vertx);
            router.get(PrometheusEndpoint.PATH).handler(new PrometheusEndpoint(registry));
            HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            HttpResponse<Buffer> response = WebClient.create(vertx)
                    .get(server.actualPort(), "127.0.0.1", PrometheusEndpoint.PATH).send()
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", response.getHeader("Content-Type"));
            assertTrue(response.bodyAsString().contains("basalt_nvme_connections 1.0"), response.bodyAsString());
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static void assertSample(String scrape, String metric, String op, String value) {
        boolean found = scrape.lines().anyMatch(line -> line.startsWith(metric + "{")
                && line.contains("op=\"" + op + "\"") && line.contains("volume=\"id-1\"") && line.contains("name=\"db\"")
                && line.endsWith(" " + value));
        assertTrue(found, metric + "{op=" + op + "} " + value + " not in:\n" + scrape);
    }
}
