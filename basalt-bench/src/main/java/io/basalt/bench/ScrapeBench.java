package io.basalt.bench;

import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.service.StorageNode;
import io.basalt.service.metrics.PrometheusEndpoint;
import io.netty.channel.EventLoopGroup;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code basalt bench --scrape-metrics}: the storage engine against a memory namespace over NVMe/TCP
 * while Prometheus scrapes the node. A whole node in this process ({@link QosBench#startNode}: engine on a
 * drive in memory) serves one volume; 4 KiB random reads and writes at queue depth 1 and 32 run on it
 * and, for comparison, on the in-process target's memory namespace ({@code --self}); during both,
 * {@link MetricsScraper} gets the node's {@code /metrics} every second, so a scrape that stalls I/O
 * shows in the engine's latencies and every scrape must answer 200.
 */
final class ScrapeBench {
    static final String SECTION_TITLE = "## NVMe/TCP in front of the storage engine, scraped every second";
    static final double READ_AIM = 0.90;
    static final double WRITE_AIM = 0.85;
    private static final int IO_SIZE = 4096;
    private static final List<Workload> WORKLOADS = List.of(Workload.RANDREAD, Workload.RANDWRITE);
    private static final int[] QUEUE_DEPTHS = {1, 32};

    /** One workload on the engine's volume and on memory, each with the scrapes made meanwhile. */
    record Row(BenchResult engine, MetricsScraper.Scrapes engineScrapes, BenchResult memory,
               MetricsScraper.Scrapes memoryScrapes) {
        double ratio() {
            return engine.iops() / memory.iops();
        }

        double aim() {
            return engine.options().workload().read ? READ_AIM : WRITE_AIM;
        }

        boolean failed() {
            return engine.errors() + memory.errors() > 0 || engineScrapes.failed() + memoryScrapes.failed() > 0;
        }
    }

    record Results(List<Row> rows, int seconds, int warmUpSeconds, String loadAtStart, String loadAtEnd) {
        boolean failed() {
            return rows.stream().anyMatch(Row::failed);
        }
    }

    private ScrapeBench() {
    }

    /** {@code args}: {@code --scrape-metrics [--seconds N] [--warmup N] [--output FILE]}. */
    static int run(String[] args) {
        return SectionMode.run(args, "--scrape-metrics", SECTION_TITLE, 10, 2, ScrapeBench::measure,
                ScrapeBench::markdown, Results::failed);
    }

    /** Starts the node and its volume, runs every workload on it and on memory while scraping, and stops it. */
    static Results measure(int seconds, int warmUpSeconds) throws Exception {
        String loadAtStart = BenchReport.loadAverage();
        Path dataDir = Files.createTempDirectory("basalt-bench-scrape-");
        EventLoopGroup hostGroup = EventLoops.createForHost(1);
        try (StorageNode node = QosBench.startNode(dataDir)) {
            String token = QosBench.adminToken(dataDir);
            URI api = QosBench.apiUri(node);
            Volume volume = new VolumeApiClient(api, token, Duration.ofSeconds(30)).createVolume(
                    new CreateVolumeRequest("scraped", QosBench.VOLUME_BYTES, List.of(BenchOptions.DEFAULT_HOST_NQN)));
            URI metrics = api.resolve(PrometheusEndpoint.PATH);
            try (HostController host = QosBench.connect(hostGroup, node.nvmeAddress(), volume, 1)) {
                QosBench.Target target = QosBench.Target.of(node.nvmeAddress(), volume, host);
                QosBench.fill(host.ioQueue(0), volume.nsid(), target.blockSize());
                List<Row> rows = new ArrayList<>();
                for (Workload workload : WORKLOADS) {
                    for (int depth : QUEUE_DEPTHS) {
                        Benchmark.LoadGroup load = target.load(workload, IO_SIZE, depth, 0, 1, seconds, warmUpSeconds);
                        MetricsScraper.Scrapes engineScrapes;
                        BenchResult engine;
                        try (MetricsScraper scraper = MetricsScraper.start(metrics, token)) {
                            engine = Benchmark.drive(List.of(load)).getFirst();
                            engineScrapes = scraper.stop();
                        }
                        MetricsScraper.Scrapes memoryScrapes;
                        BenchResult memory;
                        try (MetricsScraper scraper = MetricsScraper.start(metrics, token)) {
                            memory = Benchmark.run(load.options().against(true, false, false));
                            memoryScrapes = scraper.stop();
                        }
                        Row row = new Row(engine, engineScrapes, memory, memoryScrapes);
                        System.out.println(summary(row));
                        rows.add(row);
                    }
                }
                return new Results(rows, seconds, warmUpSeconds, loadAtStart, BenchReport.loadAverage());
            }
        } finally {
            EventLoops.shutdown(hostGroup);
            BenchEngine.delete(dataDir);
        }
    }

    private static String summary(Row r) {
        return String.format(Locale.ROOT, "scrape %s qd %-2d engine %,.0f IOPS p99.9 %.1f µs, memory %,.0f IOPS p99.9 "
                        + "%.1f µs: %.0f%% (aim %.0f%%); scrapes %d + %d, %d failed, slowest %.1f ms%s",
                r.engine().options().workload().label(), r.engine().options().queueDepth(), r.engine().iops(),
                r.engine().micros(0.999), r.memory().iops(), r.memory().micros(0.999), 100 * r.ratio(), 100 * r.aim(),
                r.engineScrapes().scrapes(), r.memoryScrapes().scrapes(),
                r.engineScrapes().failed() + r.memoryScrapes().failed(),
                Math.max(r.engineScrapes().slowestMillis(), r.memoryScrapes().slowestMillis()),
                r.failed() ? "  ERRORS " + errors(r) : "");
    }

    private static String errors(Row r) {
        List<String> errors = new ArrayList<>();
        for (BenchResult b : List.of(r.engine(), r.memory())) {
            if (b.errors() > 0) {
                errors.add(b.summary());
            }
        }
        for (MetricsScraper.Scrapes s : List.of(r.engineScrapes(), r.memoryScrapes())) {
            if (s.failed() > 0) {
                errors.add(s.failed() + " of " + s.scrapes() + " scrapes failed, first: " + s.firstFailure());
            }
        }
        return String.join("; ", errors);
    }

    /** The section for docs/benchmarks.md: how it was measured, with the command, the machine and the load. */
    static String markdown(Results r, String command) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append(SECTION_TITLE).append("\n\n");
        md.append(String.format(Locale.ROOT, """
                Written by `bin/basalt bench --scrape-metrics --output docs/benchmarks.md` (which replaces this
                section only). A whole node in one process (the volume API with `/metrics`, the NVMe/TCP
                target, the data-plane volume layer, the storage engine on a drive in memory: the engine's own
                cost, without the page cache's) and one %d MiB volume written through once; Basalt's own host
                on loopback TCP, one connection. *Memory* is the in-process target's memory namespace
                (`--self`, no node) under the same load, right after the engine's run. During each run (warm-up and measured
                window) an HTTP client gets the node's `/metrics` with the admin token every %d s, as
                Prometheus would; *Scrapes* counts them in the engine's run and the memory run, each had to
                answer 200 within %d s, and *Slowest* is the longest answer in the engine's run. Each run: %d s
                warm-up, %d s measured. The ratio is the engine's IOPS over memory's (aims: writes ≥ %.0f%%,
                reads ≥ %.0f%%).

                """, QosBench.VOLUME_BYTES >> 20, MetricsScraper.PERIOD.toSeconds(), MetricsScraper.TIMEOUT.toSeconds(),
                r.warmUpSeconds(), r.seconds(), 100 * WRITE_AIM, 100 * READ_AIM));
        md.append(SectionMode.runLines(command, r.loadAtStart(), r.loadAtEnd()));
        md.append("| Workload | Engine IOPS | p50 µs | p99 µs | p99.9 µs | Memory IOPS | Memory p50 µs | Memory p99 µs "
                + "| Memory p99.9 µs | Ratio | Aim | Scrapes (engine + memory) | Failed | Slowest ms |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Row row : r.rows()) {
            BenchResult e = row.engine();
            BenchResult m = row.memory();
            md.append(String.format(Locale.ROOT, "| 4 KiB %s qd %d | %,.0f | %.1f | %.1f | %.1f | %,.0f | %.1f | %.1f "
                            + "| %.1f | %.0f%% | %s %.0f%% | %d + %d | %d | %.1f |%n",
                    e.options().workload().label(), e.options().queueDepth(), e.iops(), e.micros(0.5), e.micros(0.99),
                    e.micros(0.999), m.iops(), m.micros(0.5), m.micros(0.99), m.micros(0.999), 100 * row.ratio(),
                    row.ratio() >= row.aim() ? "met, ≥" : "**missed**, ≥", 100 * row.aim(),
                    row.engineScrapes().scrapes(), row.memoryScrapes().scrapes(),
                    row.engineScrapes().failed() + row.memoryScrapes().failed(), row.engineScrapes().slowestMillis()));
        }
        List<String> errors = r.rows().stream().filter(Row::failed).map(ScrapeBench::errors).toList();
        if (!errors.isEmpty()) {
            md.append("\nErrors:\n\n");
            errors.forEach(e -> md.append("- ").append(e).append('\n'));
        }
        return md.toString();
    }
}
