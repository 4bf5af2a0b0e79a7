package io.basalt.bench;

import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.client.VolumeApiClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench --node-startup}: how fast a whole node serves right after {@code serve} says it is
 * ready, with and without its warm-up ({@code node.warmup-seconds}) and, when given, a JVM
 * ahead-of-time cache, in the same run. Each node is a process of its own, started as
 * {@code bin/basalt serve} starts one ({@link NodeProcess}), on one data
 * directory with one volume written through once; the load comes from this process's NVMe/TCP host,
 * warm after the volume was filled, so that only the node is cold. Per node: the first
 * {@code --seconds} of I/O from the moment the node logged that it is ready, then the same workload
 * after {@code --warmup} more seconds: the steady state of the same node.
 */
final class NodeStartupBench {
    static final String SECTION_TITLE = "## Start-up of a whole node: the first seconds after `serve` is ready";
    private static final long VOLUME_BYTES = 256L << 20;
    private static final String DRIVE_SIZE = "1GiB";
    private static final int FILL_SECONDS = 10;
    private static final int DEFAULT_WARMUP_SECONDS = 5;

    /** One way of starting the node: its extra JVM options and configuration keys. */
    record Variant(String label, List<String> jvmOptions, List<String> serveOptions) {
    }

    /**
     * One node started: seconds until ready, IOPS of its first window and of its steady state, and the
     * node's CPU time per I/O in its first window and in one more window at steady state.
     */
    record Result(Variant variant, int round, double readySeconds, double firstIops, double steadyIops,
                  double firstCpuMicros, double steadyCpuMicros) {
        double ratio() {
            return firstIops / steadyIops;
        }
    }

    private NodeStartupBench() {
    }

    /**
     * {@code --node-startup [--rounds N] [--node-warmup N] [--aot-cache FILE] [--engine-dir DIR]
     * [--output FILE]} and a workload's {@code --rw --bs --qd --connections --seconds --warmup}.
     */
    static int run(String[] args) {
        int rounds = 2;
        int nodeWarmUp = DEFAULT_WARMUP_SECONDS;
        Path aotCache = null;
        Path parent = null;
        Path output = null;
        List<String> workload = new ArrayList<>();
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--node-startup" -> { }
                    case "--rounds" -> rounds = BenchOptions.integer(BenchOptions.value(args, ++i, "--rounds"), "--rounds");
                    case "--node-warmup" -> nodeWarmUp = BenchOptions.integer(BenchOptions.value(args, ++i, "--node-warmup"),
                            "--node-warmup");
                    case "--aot-cache" -> aotCache = Path.of(BenchOptions.value(args, ++i, "--aot-cache"));
                    case "--engine-dir" -> parent = Path.of(BenchOptions.value(args, ++i, "--engine-dir"));
                    case "--output" -> output = Path.of(BenchOptions.value(args, ++i, "--output"));
                    default -> workload.add(args[i]);
                }
            }
            if (rounds < 1 || nodeWarmUp < 1) {
                throw new IllegalArgumentException("--rounds and --node-warmup must be positive");
            }
            // checked now rather than after the first node started
            BenchOptions.parse(targetArguments(workload, "127.0.0.1", 1, "nqn.2026-12.io.basalt:check"));
        } catch (IllegalArgumentException e) {
            System.err.println("basalt bench: " + e.getMessage());
            BenchCommand.usage(System.err);
            return BenchCommand.EXIT_USAGE;
        }
        List<Variant> variants = new ArrayList<>(List.of(
                new Variant("no warm-up", List.of(), List.of("--node.warmup-seconds=0")),
                new Variant("warm-up " + nodeWarmUp + " s", List.of(),
                        List.of("--node.warmup-seconds=" + nodeWarmUp))));
        if (aotCache != null) {
            variants.add(new Variant("AOT cache, no warm-up", List.of("-XX:AOTCache=" + aotCache),
                    List.of("--node.warmup-seconds=0")));
            variants.add(new Variant("AOT cache, warm-up " + nodeWarmUp + " s", List.of("-XX:AOTCache=" + aotCache),
                    List.of("--node.warmup-seconds=" + nodeWarmUp)));
        }
        Path dataDir = null;
        try {
            dataDir = parent == null ? Files.createTempDirectory("basalt-node-startup-")
                    : Files.createTempDirectory(Files.createDirectories(parent), "basalt-node-startup-");
            String nqn = prepare(dataDir, workload, aotCache != null && !Files.exists(aotCache)
                    ? List.of("-XX:AOTCacheOutput=" + aotCache) : List.of());
            List<Result> results = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                for (Variant v : variants) {
                    Result r = measure(dataDir, v, round, workload, nqn);
                    System.err.printf(Locale.ROOT, "%s, round %d: ready in %.1f s, first %,.0f IOPS (%.1f CPU us/IO),"
                                    + " steady %,.0f (%.1f CPU us/IO)%n", v.label(), round, r.readySeconds(),
                            r.firstIops(), r.firstCpuMicros(), r.steadyIops(), r.steadyCpuMicros());
                    results.add(r);
                }
            }
            String text = markdown(results, String.join(" ", args));
            SectionMode.printSection(text, output, SECTION_TITLE);
            return 0;
        } catch (Exception e) {
            System.err.println("basalt bench: " + BenchCommand.describe(e));
            return BenchCommand.EXIT_FAILED;
        } finally {
            if (dataDir != null) {
                BenchEngine.delete(dataDir);
            }
        }
    }

    /**
     * Starts a node once (no warm-up), makes the volume, writes it through and runs the workload once;
     * returns the volume's NQN. With {@code -XX:AOTCacheOutput} in {@code jvmOptions} this node is the
     * cache's training run: the JVM writes the cache when the node stops.
     */
    private static String prepare(Path dataDir, List<String> workload, List<String> jvmOptions) throws Exception {
        try (NodeProcess node = NodeProcess.start(jvmOptions, serveArguments(dataDir, List.of("--node.warmup-seconds=0")))) {
            VolumeApiClient client = new VolumeApiClient(node.api, QosBench.adminToken(dataDir), Duration.ofSeconds(30));
            Volume volume = client.createVolume(new CreateVolumeRequest("startup", VOLUME_BYTES,
                    List.of(BenchOptions.DEFAULT_HOST_NQN)));
            List<String> fill = List.of("--rw", "write", "--bs", "128k", "--qd", "8", "--seconds",
                    Integer.toString(FILL_SECONDS), "--warmup", "0");
            BenchResult filled = Benchmark.run(BenchOptions.parse(targetArguments(fill, node.nvmeHost, node.nvmePort,
                    volume.nqn())));
            BenchResult trained = Benchmark.run(BenchOptions.parse(targetArguments(workload, node.nvmeHost,
                    node.nvmePort, volume.nqn())));
            if (filled.errors() + trained.errors() > 0) {
                throw new IllegalStateException("the first node's I/O failed: " + filled.summary() + " / "
                        + trained.summary());
            }
            return volume.nqn();
        }
    }

    private static Result measure(Path dataDir, Variant variant, int round, List<String> workload, String nqn)
            throws Exception {
        long started = System.nanoTime();
        try (NodeProcess node = NodeProcess.start(variant.jvmOptions(), serveArguments(dataDir, variant.serveOptions()))) {
            double ready = (System.nanoTime() - started) / 1e9;
            BenchOptions options = BenchOptions.parse(targetArguments(workload, node.nvmeHost, node.nvmePort, nqn));
            Duration beforeFirst = node.cpuTime();
            BenchResult first = Benchmark.run(options.warmedUpFor(0));
            Duration afterFirst = node.cpuTime();
            BenchResult steady = Benchmark.run(options);
            // IOPS swing with whatever else the two cores run; the node's CPU per I/O much less, so it is
            // measured too, over one more window (the steady run's own includes its warm-up).
            Duration beforeSteady = node.cpuTime();
            BenchResult again = Benchmark.run(options.warmedUpFor(0));
            Duration afterSteady = node.cpuTime();
            if (first.errors() + steady.errors() + again.errors() > 0) {
                throw new IllegalStateException(variant.label() + ": " + first.summary() + " / " + steady.summary()
                        + " / " + again.summary());
            }
            return new Result(variant, round, ready, first.iops(), steady.iops(), micros(afterFirst.minus(beforeFirst), first),
                    micros(afterSteady.minus(beforeSteady), again));
        }
    }

    private static double micros(Duration cpu, BenchResult result) {
        return cpu.toNanos() / 1e3 / result.ios();
    }

    /** One node on {@code dataDir}, every port chosen by the system, its drive file small. */
    private static List<String> serveArguments(Path dataDir, List<String> options) {
        List<String> arguments = new ArrayList<>(List.of("--data-dir", dataDir.toString(), "--nvme.port=0",
                "--nvme.discovery-port=0", "--api.port=0", "--engine.drive-size=" + DRIVE_SIZE));
        arguments.addAll(options);
        return arguments;
    }

    private static String[] targetArguments(List<String> workload, String host, int port, String nqn) {
        List<String> args = new ArrayList<>(List.of("--target", host + ":" + port, "--nqn", nqn));
        args.addAll(workload);
        return args.toArray(String[]::new);
    }

    static String markdown(List<Result> results, String arguments) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append(SECTION_TITLE).append(" (").append(LocalDate.now()).append(")\n\n");
        md.append("- Command: `bin/basalt bench ").append(arguments).append("`\n").append(BenchReport.machineLines())
                .append("- Load average when it ended: ").append(BenchReport.loadAverage()).append("\n\n");
        md.append("""
                Each row is a node of its own: a fresh JVM started as `bin/basalt serve` starts one (same JVM
                options and class path), on one data directory (engine on its default drive file) with one
                256 MiB volume written through once. *Ready* is from the process start until it logged
                `Basalt ready` (the warm-up runs before that); *first* is the IOPS of the first window of I/O
                right after, *steady* the same workload after the warm-up of `--warmup` more seconds, same
                node. The load comes from the benchmark's own NVMe/TCP host, warm after filling the volume. With
                `--aot-cache FILE` nodes also run with `-XX:AOTCache=FILE`, without and with the warm-up; a missing
                FILE is first made by the node that fills the volume (`-XX:AOTCacheOutput`, its training run:
                the fill and the workload once). *CPU µs/IO* is the node process's CPU time (every thread, the
                JIT compiler's too) over the I/Os of a window: in the first window, and in one more window
                after the steady one; *steady ÷ first CPU* is the share of the steady throughput the first
                window's CPU cost allows when the node is CPU-bound, steadier than the IOPS on a shared machine.

                """);
        md.append("| Node | Round | Ready, s | First window IOPS | Steady IOPS | First ÷ steady | First CPU µs/IO"
                + " | Steady CPU µs/IO | Steady ÷ first CPU |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Result r : results) {
            md.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %,.0f | %,.0f | %.0f%% | %.1f | %.1f | %.0f%% |%n",
                    r.variant().label(), r.round(), r.readySeconds(), r.firstIops(), r.steadyIops(), 100 * r.ratio(),
                    r.firstCpuMicros(), r.steadyCpuMicros(), 100 * r.steadyCpuMicros() / r.firstCpuMicros()));
        }
        return md.toString();
    }
}
