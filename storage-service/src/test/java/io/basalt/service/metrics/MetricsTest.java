package io.basalt.service.metrics;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.IoObserver;
import io.basalt.service.engine.Engine;
import io.basalt.service.engine.EngineConfig;
import io.basalt.service.engine.EngineVolume;
import io.basalt.service.engine.IoResult;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.Unpooled;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
        VolumeIoMetrics metrics = new VolumeIoMetrics(registry, id -> 1.0, id -> 0);
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

    /**
     * Completions recorded on several threads at once (event loops of several queues of one volume) are
     * counted per thread and summed when scraped: the scrape shows the sums. Shown failing with the
     * per-thread counters' merge reading only the first thread's stripe.
     */
    @Test
    void completionsOnSeveralThreadsAreSummedWhenScraped() throws Exception {
        VolumeIoMetrics metrics = new VolumeIoMetrics(registry, id -> 1.0, id -> 0);
        IoObserver observer = metrics.observerFor("id-1", "db");
        int threads = 4;
        int perThread = 10_000;
        List<Thread> loops = new java.util.ArrayList<>();
        for (int t = 0; t < threads; t++) {
            loops.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perThread; i++) {
                    observer.completed(Opcodes.IO_WRITE, 4096, 1_000, i % 100 == 0 ? Status.WRITE_FAULT : Status.SUCCESS);
                }
            }));
        }
        for (Thread t : loops) {
            t.join();
        }
        String scrape = registry.scrape();
        assertSample(scrape, "basalt_volume_io_latency_seconds_count", "write", Integer.toString(threads * perThread));
        assertSample(scrape, "basalt_volume_io_latency_seconds_sum", "write", "0.04");
        assertSample(scrape, "basalt_volume_io_bytes_total", "write", Double.toString(4096.0 * threads * perThread));
        assertSample(scrape, "basalt_volume_io_errors_total", "write", Double.toString(threads * perThread / 100.0));
    }

    @Test
    void aVolumeHasOneObserverAndLosesItsMetersWhenDeleted() {
        VolumeIoMetrics metrics = new VolumeIoMetrics(registry, id -> 1.0, id -> 0);
        IoObserver observer = metrics.observerFor("id-1", "db");
        assertSame(observer, metrics.observerFor("id-1", "db"));
        metrics.observerFor("id-2", "logs");

        metrics.volumeDeleted("id-1");

        String scrape = registry.scrape();
        assertFalse(scrape.contains("volume=\"id-1\""), scrape);
        assertTrue(scrape.contains("volume=\"id-2\""), scrape);
    }

    @Test
    void eachVolumeHasACompressionGaugeReadAtScrapeTime() {
        Map<String, Double> ratios = new ConcurrentHashMap<>(Map.of("id-1", 1.0, "id-2", 3.0));
        VolumeIoMetrics metrics = new VolumeIoMetrics(registry, ratios::get, id -> 0);
        metrics.observerFor("id-1", "db");
        metrics.observerFor("id-2", "logs");
        ratios.put("id-1", 2.5);
        System.gc(); // the gauge must hold its supplier strongly

        String scrape = registry.scrape();
        assertTrue(scrape.contains("basalt_volume_compression_ratio{name=\"db\",volume=\"id-1\"} 2.5"), scrape);
        assertTrue(scrape.contains("basalt_volume_compression_ratio{name=\"logs\",volume=\"id-2\"} 3.0"), scrape);

        metrics.volumeDeleted("id-1");
        scrape = registry.scrape();
        assertFalse(scrape.contains("volume=\"id-1\""), scrape);
        assertTrue(scrape.contains("basalt_volume_compression_ratio{name=\"logs\",volume=\"id-2\"} 3.0"), scrape);
    }

    @Test
    void eachVolumeCountsTheTimeItsCommandsWaitedForQos() {
        Map<String, Double> throttled = new ConcurrentHashMap<>(Map.of("id-1", 0.0));
        VolumeIoMetrics metrics = new VolumeIoMetrics(registry, id -> 1.0, throttled::get);
        metrics.observerFor("id-1", "db");
        throttled.put("id-1", 1.5);
        System.gc(); // the counter's source must be held strongly

        String scrape = registry.scrape();
        assertTrue(scrape.contains("basalt_volume_qos_throttled_seconds_total{name=\"db\",volume=\"id-1\"} 1.5"), scrape);
    }

    @Test
    void engineGaugesShowTheEnginesSpaceAndCounters(@TempDir Path dir) throws Exception {
        EngineConfig config = new EngineConfig(List.of(dir.resolve("drive0.img")), 256L << 20, dir.resolve("engine"),
                UUID.randomUUID(), 2 << 20, false, 64L << 20, 30_000, 2_000, 10.0);
        try (Engine engine = Engine.open(config)) {
            EngineGauges.register(registry, engine);
            int map = engine.createVolume(4096, 256, false);
            EngineVolume volume = engine.volume(map).orElseThrow();
            CompletableFuture<IoResult> written = new CompletableFuture<>();
            volume.write(0, 4, Unpooled.wrappedBuffer(new byte[4 * 4096]), true, written::complete);
            assertEquals(IoResult.OK, written.get(10, TimeUnit.SECONDS));

            String scrape = registry.scrape();
            assertEquals((double) engine.capacityBytes(), sample(scrape, "basalt_engine_capacity_bytes"));
            assertEquals((double) engine.stats().liveBytes(), sample(scrape, "basalt_engine_used_bytes"));
            assertEquals(0.0, sample(scrape, "basalt_engine_failed"), "the engine works");
            assertTrue(sample(scrape, "basalt_engine_used_bytes") >= 4 * 4096, scrape);
            assertEquals((double) engine.stats().freeSegments(), sample(scrape, "basalt_engine_free_segments"));
            assertEquals(4 * 4096.0, sample(scrape, "basalt_engine_host_written_bytes_total"));
            assertTrue(sample(scrape, "basalt_engine_drive_written_bytes_total") >= 4 * 4096, scrape);
            assertTrue(sample(scrape, "basalt_engine_write_amplification") >= 1.0, scrape);
            assertEquals(engine.stats().compressionRatio(), sample(scrape, "basalt_engine_compression_ratio"));
            assertEquals(0.0, sample(scrape, "basalt_engine_checksum_errors_total"));
            assertEquals(0.0, sample(scrape, "basalt_engine_capacity_errors_total"));
            assertTrue(sample(scrape, "basalt_engine_syncs_total") >= 1, "a FUA write syncs: " + scrape);
            assertTrue(sample(scrape, "basalt_engine_recovery_seconds") >= 0, scrape);
            sample(scrape, "basalt_engine_gc_relocated_bytes_total");
            sample(scrape, "basalt_engine_gc_reclaimed_segments_total");
            sample(scrape, "basalt_engine_checkpoints_total");
            assertEquals(0.0, sample(scrape, "basalt_engine_scrub_unrepairable_segments"), "no scrub ran");
            sample(scrape, "basalt_engine_scrub_repaired_chunks_total");
        }
    }

    private static double sample(String scrape, String metric) {
        return scrape.lines().filter(line -> line.startsWith(metric + " "))
                .mapToDouble(line -> Double.parseDouble(line.substring(metric.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError(metric + " not in:\n" + scrape));
    }

    @Test
    void nodeGaugesReadTheirSourcesAtScrapeTime() {
        AtomicInteger connections = new AtomicInteger();
        NodeGauges.register(registry, connections::get, () -> 6, () -> 2, () -> 3, () -> 1L << 20);
        connections.set(4);
        System.gc(); // gauges must hold their suppliers strongly

        String scrape = registry.scrape();
        assertTrue(scrape.contains("basalt_nvme_connections 4.0"), scrape);
        assertTrue(scrape.contains("basalt_nvme_queue_pairs 6.0"), scrape);
        assertTrue(scrape.contains("basalt_nvme_controllers 2.0"), scrape);
        assertTrue(scrape.contains("basalt_volumes 3.0"), scrape);
        assertTrue(scrape.contains("basalt_nvme_data_bytes_in_flight 1048576.0"), scrape);
    }

    @Test
    void theEndpointServesTheTextFormat() throws Exception {
        NodeGauges.register(registry, () -> 1, () -> 1, () -> 1, () -> 0, () -> 0L);
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
