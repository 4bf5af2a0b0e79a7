package io.basalt.service.bench;

import io.netty.channel.epoll.Epoll;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The standard matrix (4 KiB random read and write at queue depth 1 and 32, 128 KiB sequential read
 * and write at queue depth 32), each against the in-process target and the echo baseline in the same
 * run, written as a Markdown table with the command, the machine and the date.
 */
final class BenchReport {
    static final String DEFAULT_OUTPUT = "docs/benchmarks.md";

    private record Case(Workload workload, int ioSize, int queueDepth) {
    }

    private static final List<Case> MATRIX = List.of(
            new Case(Workload.RANDREAD, 4096, 1),
            new Case(Workload.RANDREAD, 4096, 32),
            new Case(Workload.RANDWRITE, 4096, 1),
            new Case(Workload.RANDWRITE, 4096, 32),
            new Case(Workload.READ, 128 * 1024, 32),
            new Case(Workload.WRITE, 128 * 1024, 32));

    private BenchReport() {
    }

    /** {@code args}: the bench command line, with {@code --report} and optionally {@code --output FILE}. */
    static int run(String[] args) {
        Path output = Path.of(DEFAULT_OUTPUT);
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--output") && i + 1 < args.length) {
                output = Path.of(args[++i]);
            } else if (!args[i].equals("--report")) {
                rest.add(args[i]);
            }
        }
        rest.add("--self");
        BenchOptions base;
        try {
            base = BenchOptions.parse(rest.toArray(String[]::new));
        } catch (IllegalArgumentException e) {
            System.err.println("basalt bench: " + e.getMessage());
            BenchCommand.usage(System.err);
            return BenchCommand.EXIT_USAGE;
        }
        List<BenchResult[]> rows = new ArrayList<>();
        try {
            for (Case c : MATRIX) {
                BenchOptions options = base.with(c.workload(), c.ioSize(), c.queueDepth());
                BenchResult basalt = Benchmark.run(options.against(true, false));
                System.out.println(basalt.summary());
                BenchResult echo = Benchmark.run(options.against(false, true));
                System.out.println(echo.summary());
                rows.add(new BenchResult[] {basalt, echo});
            }
            Files.writeString(output, markdown(base, String.join(" ", args), rows));
        } catch (Exception e) {
            System.err.println("basalt bench: " + BenchCommand.describe(e));
            return BenchCommand.EXIT_FAILED;
        }
        System.out.println("Wrote " + output);
        boolean failures = rows.stream().anyMatch(r -> r[0].errors() + r[1].errors() > 0);
        return failures ? BenchCommand.EXIT_FAILED : 0;
    }

    private static String markdown(BenchOptions base, String command, List<BenchResult[]> rows) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks\n\n");
        md.append("""
                Basalt's NVMe/TCP data path — the Java host (`io.basalt.nvmetcp.host`), loopback TCP, the target
                (`io.basalt.nvmetcp.target`) and an in-memory namespace — measured against the loopback ceiling:
                an echo server that moves the same bytes per I/O (a write is its data answered by a 24-byte
                reply; a read is a 72-byte request answered by its data) and does nothing else. Both run in one
                process on 127.0.0.1, driven by the same closed loop (queue depth I/Os per connection, each
                started again when it completes), one after the other in the same run. The ratio is Basalt's
                IOPS over the echo server's: how much of what loopback TCP allows the protocol keeps.

                These figures are the protocol stack's, not a node's: the storage engine, replication and real
                disks are not in the path. Latencies are measured by the client from submission to completion.
                Writes are stored: the namespace copies each one into its memory (a random place in the working
                set), which the echo server never does; in a JFR profile of 4 KiB random writes at queue depth 32
                that copy is about a third of the samples, and it accounts for most of the gap between the write
                and the read ratios.

                """);
        md.append("- Command: `bin/basalt bench ").append(command).append("`\n");
        md.append("- Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs (`nproc`), ")
                .append(cpuModel()).append(", ").append(System.getProperty("os.name")).append(' ')
                .append(System.getProperty("os.version")).append("\n");
        md.append("- JDK: ").append(System.getProperty("java.vm.name")).append(' ')
                .append(System.getProperty("java.runtime.version")).append("; transport: ")
                .append(Epoll.isAvailable() ? "epoll" : "NIO").append("\n");
        md.append("- Date: ").append(LocalDate.now(ZoneOffset.UTC)).append("\n");
        md.append("- Load average when the report was written (the machine may be shared; figures swing with it): ")
                .append(loadAverage()).append("\n");
        md.append("- Each workload: ").append(base.warmUpSeconds()).append(" s warm-up, ").append(base.seconds())
                .append(" s measured, ").append(base.connections()).append(" connection(s)")
                .append(base.digests() ? ", header and data digests" : ", no digests")
                .append("; working set ").append(Benchmark.DEFAULT_LOCAL_WORKING_SET >> 20).append(" MiB of 512-byte blocks\n\n");
        md.append("| Workload | Basalt IOPS | Basalt MiB/s | p50 µs | p99 µs | p99.9 µs | Echo IOPS | Echo MiB/s | Echo p50 µs | Echo p99 µs | Ratio |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (BenchResult[] row : rows) {
            BenchResult b = row[0];
            BenchResult e = row[1];
            md.append(String.format(Locale.ROOT, "| %s %s qd %d | %,.0f | %,.1f | %.1f | %.1f | %.1f | %,.0f | %,.1f | %.1f | %.1f | %.0f%% |%n",
                    BenchResult.sizeLabel(b.options().ioSize()).replace("k", " KiB"), b.options().workload().label(),
                    b.options().queueDepth(), b.iops(), b.mibPerSecond(), b.micros(0.5), b.micros(0.99), b.micros(0.999),
                    e.iops(), e.mibPerSecond(), e.micros(0.5), e.micros(0.99), 100 * b.iops() / e.iops()));
        }
        for (BenchResult[] row : rows) {
            for (BenchResult r : row) {
                if (r.errors() > 0) {
                    md.append("\nErrors: ").append(r.summary()).append('\n');
                }
            }
        }
        return md.toString();
    }

    private static String loadAverage() throws IOException {
        Path loadavg = Path.of("/proc/loadavg");
        if (!Files.isReadable(loadavg)) {
            return "unknown";
        }
        String[] fields = Files.readString(loadavg).split(" ");
        return fields[0] + ", " + fields[1] + ", " + fields[2] + " (1, 5, 15 min)";
    }

    private static String cpuModel() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) {
            return "unknown CPU";
        }
        return Files.readAllLines(cpuinfo).stream()
                .filter(l -> l.startsWith("model name"))
                .map(l -> l.substring(l.indexOf(':') + 1).strip())
                .findFirst().orElse("unknown CPU");
    }
}
