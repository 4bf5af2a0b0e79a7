package io.basalt.bench;

import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.service.StorageNode;
import io.basalt.service.config.ConfigLoader;
import io.netty.channel.EventLoopGroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * {@code basalt bench --erasure-coded-io}: what erasure coding costs host I/O through NVMe/TCP. Three
 * nodes in this process, each on six drive files of its own in the same file system: without erasure
 * coding, 4+2, and a copy of the 4+2 node without one drive file (missing at start: a failed drive, so
 * every read touching its chunks rebuilds them from the others). Each serves one volume written through
 * once; 4 KiB and 128 KiB random writes and reads run from Basalt's own host, one connection at queue
 * depth 32, the nodes taking turns for {@value #ROUNDS} rounds (the degraded node reads only); the
 * median of each is shown.
 */
final class ErasureIoBench {
    static final String SECTION_TITLE = "## Erasure coding 4+2 through NVMe/TCP: cost and degraded reads";
    /** The aim: erasure coding costs at most 15% of write IOPS. */
    static final double WRITE_AIM = 0.85;
    private static final int DRIVES = 6;
    private static final long DRIVE_BYTES = 256L << 20;
    private static final int QUEUE_DEPTH = 32;
    private static final int[] SIZES = {4096, 128 * 1024};
    /** Reads first: the degraded node, a copy, holds the fill only, and so do the others until they are written. */
    private static final List<Workload> WORKLOADS = List.of(Workload.RANDREAD, Workload.RANDWRITE);
    /** Runs per workload and node, alternating the nodes; the median is shown. */
    private static final int ROUNDS = 3;

    /** One workload: without erasure coding, 4+2, and (reads) 4+2 with a drive failed. */
    record Row(int ioSize, Workload workload, BenchResult plain, BenchResult coded, BenchResult degraded) {
        double ratio() {
            return coded.iops() / plain.iops();
        }

        boolean failed() {
            return plain.errors() + coded.errors() + (degraded == null ? 0 : degraded.errors()) > 0;
        }
    }

    record Results(List<Row> rows, int seconds, int warmUpSeconds, String loadAtStart, String loadAtEnd) {
        boolean failed() {
            return rows.stream().anyMatch(Row::failed);
        }
    }

    private ErasureIoBench() {
    }

    /** {@code args}: {@code --erasure-coded-io [--seconds N] [--warmup N] [--output FILE]}. */
    static int run(String[] args) {
        return SectionMode.run(args, "--erasure-coded-io", SECTION_TITLE, 5, 2, ErasureIoBench::measure,
                ErasureIoBench::markdown, Results::failed);
    }

    static Results measure(int seconds, int warmUpSeconds) throws Exception {
        String loadAtStart = BenchReport.loadAverage();
        Path plainDir = Files.createTempDirectory("basalt-bench-ec-none-");
        Path codedDir = Files.createTempDirectory("basalt-bench-ec-4+2-");
        Path degradedDir = Files.createTempDirectory("basalt-bench-ec-degraded-");
        EventLoopGroup hostGroup = EventLoops.createForHost(1);
        try {
            // The degraded node is the 4+2 node's copy, once written, without drive 1's file.
            try (Node coded = Node.start(codedDir, "4+2", hostGroup)) {
                coded.fill();
            }
            copyWithout(codedDir, degradedDir, drive(codedDir, 1).getFileName());
            try (Node plain = Node.start(plainDir, "none", hostGroup);
                 Node coded = Node.start(codedDir, "4+2", hostGroup);
                 Node degraded = Node.start(degradedDir, "4+2", hostGroup)) {
                plain.fill();
                List<Row> rows = new ArrayList<>();
                for (Workload workload : WORKLOADS) {
                    for (int size : SIZES) {
                        // Rounds alternate the nodes, so that a change in the machine's load meets all of them.
                        List<BenchResult> p = new ArrayList<>();
                        List<BenchResult> c = new ArrayList<>();
                        List<BenchResult> d = new ArrayList<>();
                        for (int round = 0; round < ROUNDS; round++) {
                            p.add(plain.run(workload, size, seconds, warmUpSeconds));
                            c.add(coded.run(workload, size, seconds, warmUpSeconds));
                            if (workload.read) {
                                d.add(degraded.run(workload, size, seconds, warmUpSeconds));
                            }
                        }
                        Row row = new Row(size, workload, median(p), median(c), d.isEmpty() ? null : median(d));
                        System.out.println(summary(row));
                        rows.add(row);
                    }
                }
                return new Results(rows, seconds, warmUpSeconds, loadAtStart, BenchReport.loadAverage());
            }
        } finally {
            EventLoops.shutdown(hostGroup);
            BenchEngine.delete(plainDir);
            BenchEngine.delete(codedDir);
            BenchEngine.delete(degradedDir);
        }
    }

    /** The result of median IOPS. */
    private static BenchResult median(List<BenchResult> results) {
        List<BenchResult> sorted = new ArrayList<>(results);
        sorted.sort(java.util.Comparator.comparingDouble(BenchResult::iops));
        return sorted.get(sorted.size() / 2);
    }

    private static void copyWithout(Path from, Path to, Path left) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path source : files.toList()) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else if (!source.getFileName().equals(left)) {
                    Files.copy(source, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    static Path drive(Path dataDir, int index) {
        return dataDir.resolve("drive" + index + ".img");
    }

    /**
     * A node on six drive files in {@code dataDir}, its volume (created the first time) and a host on it;
     * also {@link RebuildBench}'s.
     */
    record Node(StorageNode node, HostController host, QosBench.Target target, boolean created)
            implements AutoCloseable {
        static Node start(Path dataDir, String layout, EventLoopGroup hostGroup) throws Exception {
            return start(dataDir, layout, DRIVE_BYTES, hostGroup);
        }

        static Node start(Path dataDir, String layout, long driveBytes, EventLoopGroup hostGroup) throws Exception {
            String drives = IntStream.range(0, DRIVES).mapToObj(i -> drive(dataDir, i).toString())
                    .collect(Collectors.joining(","));
            StorageNode node = StorageNode.start(ConfigLoader.load(List.of("--data-dir", dataDir.toString(),
                    "--nvme.port=0", "--nvme.discovery-port=0", "--api.port=0", "--engine.drives=" + drives,
                    "--engine.drive-size=" + driveBytes, "--engine.erasure-code=" + layout), Map.of()));
            try {
                VolumeApiClient api = new VolumeApiClient(QosBench.apiUri(node), QosBench.adminToken(dataDir),
                        Duration.ofSeconds(30));
                List<Volume> existing = api.volumes();
                Volume volume = existing.isEmpty() ? api.createVolume(new CreateVolumeRequest("coded",
                        QosBench.VOLUME_BYTES, List.of(BenchOptions.DEFAULT_HOST_NQN))) : existing.getFirst();
                HostController host = QosBench.connect(hostGroup, node.nvmeAddress(), volume, 1);
                return new Node(node, host, QosBench.Target.of(node.nvmeAddress(), volume, host), existing.isEmpty());
            } catch (Exception e) {
                node.close();
                throw e;
            }
        }

        /** Writes the volume through once, if this start created it. */
        void fill() throws Exception {
            if (created) {
                QosBench.fill(host.ioQueue(0), target.volume().nsid(), target.blockSize());
            }
        }

        BenchResult run(Workload workload, int size, int seconds, int warmUpSeconds) throws Exception {
            return Benchmark.drive(List.of(target.load(workload, size, QUEUE_DEPTH, 0, 1, seconds, warmUpSeconds)))
                    .getFirst();
        }

        @Override
        public void close() throws Exception {
            try {
                host.close();
            } finally {
                node.close();
            }
        }
    }

    private static String summary(Row r) {
        return String.format(Locale.ROOT, "erasure-coded-io %s %d KiB: none %,.0f IOPS, 4+2 %,.0f IOPS (%.0f%%)%s%s",
                r.workload().label(), r.ioSize() >> 10, r.plain().iops(), r.coded().iops(), 100 * r.ratio(),
                r.degraded() == null ? "" : String.format(Locale.ROOT, ", degraded %,.0f IOPS (%.0f%% of 4+2)",
                        r.degraded().iops(), 100 * r.degraded().iops() / r.coded().iops()),
                r.failed() ? "  ERRORS" : "");
    }

    /** The section for docs/benchmarks.md: how it was measured, with the command, the machine and the load. */
    static String markdown(Results r, String command) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append(SECTION_TITLE).append("\n\n");
        md.append(String.format(Locale.ROOT, """
                Written by `bin/basalt bench --erasure-coded-io --output docs/benchmarks.md` (which replaces this
                section only). Three whole nodes in one process (volume API, NVMe/TCP target, data-plane volume
                layer, storage engine), each on %d drive files of %d MiB of its own in one temporary directory
                (page cache, no device below), node defaults otherwise (4 MiB segments, no sync per write):
                *no EC* (segments round-robin across the drives), *4+2* (every segment a stripe across the six)
                and *degraded*, a copy of the 4+2 node once written, started without drive 1's file (missing
                at start, marked failed: a read touching its chunks reads the other chunks of the rows and
                rebuilds them with ISA-L; reads only). Each serves one %d MiB volume written through once with
                128 KiB writes; Basalt's own host runs each workload on loopback TCP, one connection at queue
                depth %d, %d s warm-up and %d s measured, the nodes taking turns for %d rounds; the median run
                of each is shown. Aim: 4+2 write IOPS ≥ %.0f%% of no EC.

                """, DRIVES, DRIVE_BYTES >> 20, QosBench.VOLUME_BYTES >> 20, QUEUE_DEPTH, r.warmUpSeconds(),
                r.seconds(), ROUNDS, 100 * WRITE_AIM));
        md.append(SectionMode.runLines(command, r.loadAtStart(), r.loadAtEnd()));
        md.append("| Workload | No EC IOPS | No EC p99 µs | 4+2 IOPS | 4+2 p99 µs | 4+2 / no EC | Aim "
                + "| Degraded IOPS | Degraded p99 µs | Degraded / 4+2 |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n");
        for (Row row : r.rows()) {
            BenchResult p = row.plain();
            BenchResult c = row.coded();
            BenchResult d = row.degraded();
            boolean write = !row.workload().read;
            md.append(String.format(Locale.ROOT, "| %d KiB %s | %,.0f | %.0f | %,.0f | %.0f | %.0f%% | %s | %s | %s | %s |%n",
                    row.ioSize() >> 10, row.workload().label(), p.iops(), p.micros(0.99), c.iops(), c.micros(0.99),
                    100 * row.ratio(),
                    write ? (row.ratio() >= WRITE_AIM ? "met, ≥ " : "**missed**, ≥ ") + Math.round(100 * WRITE_AIM) + "%"
                            : "",
                    d == null ? "" : String.format(Locale.ROOT, "%,.0f", d.iops()),
                    d == null ? "" : String.format(Locale.ROOT, "%.0f", d.micros(0.99)),
                    d == null ? "" : String.format(Locale.ROOT, "%.0f%%", 100 * d.iops() / c.iops())));
        }
        List<String> errors = r.rows().stream().filter(Row::failed)
                .map(row -> row.plain().summary() + "; " + row.coded().summary()).toList();
        if (!errors.isEmpty()) {
            md.append("\nErrors:\n\n");
            errors.forEach(e -> md.append("- ").append(e).append('\n'));
        }
        return md.toString();
    }
}
