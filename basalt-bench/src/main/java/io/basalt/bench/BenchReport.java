package io.basalt.bench;

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
 * The standard report, written as Markdown with the command, the machine, the date and the load:
 * <ol>
 * <li>the NVMe/TCP matrix (4 KiB random read and write at queue depth 1 and 32, 128 KiB sequential
 * read and write at queue depth 32) against the in-process target on memory and the echo baseline,
 * and the 4 KiB workloads also against the in-process target on a storage-engine volume;</li>
 * <li>the engine's write amplification under random overwrites at 50% to 80% full;</li>
 * <li>the engine's compression ratio and write throughput by kind of data, compression on and off;</li>
 * <li>the engine's checkpoint cost (base and delta: writer pause, time and size) and recovery time at 1, 4 and 16 GiB
 * mapped;</li>
 * <li>the erasure coding library's encode and rebuild throughput per core, ISA-L and pure Java;</li>
 * <li>volume QoS: achieved against each kind of limit, and a neighbour's IOPS beside a noisy volume ({@link QosBench}).</li>
 * </ol>
 * Everything runs one after the other in one process, so ratios compare runs of the same minute.
 */
final class BenchReport {
    static final String DEFAULT_OUTPUT = "docs/benchmarks.md";
    static final String ERRORS_TITLE = "## Errors";
    /**
     * Headings of the sections the report writes; in the output file these are replaced, an owned
     * section the report did not write this time (no errors) is removed, every other section is kept.
     */
    static final List<String> OWNED_SECTIONS = List.of("## NVMe/TCP against the loopback ceiling",
            "## NVMe/TCP in front of the storage engine", StartupBench.SECTION_TITLE,
            "## Storage engine: write amplification", "## Storage engine: compression",
            CheckpointBench.SECTION_TITLE, ErasureBench.SECTION_TITLE, QosBench.SECTION_TITLE, ERRORS_TITLE);

    private record Case(Workload workload, int ioSize, int queueDepth) {
        /**
         * The engine is measured on the small random I/O that stresses its per-I/O path and on the
         * large transfers of issue 13's comparison with SPDK (128 KiB at queue depth 8).
         */
        boolean onEngine() {
            return ioSize == 4096 || queueDepth == 8;
        }
    }

    private static final List<Case> MATRIX = List.of(
            new Case(Workload.RANDREAD, 4096, 1),
            new Case(Workload.RANDREAD, 4096, 32),
            new Case(Workload.RANDWRITE, 4096, 1),
            new Case(Workload.RANDWRITE, 4096, 32),
            new Case(Workload.READ, 128 * 1024, 8),
            new Case(Workload.WRITE, 128 * 1024, 8),
            new Case(Workload.READ, 128 * 1024, 32),
            new Case(Workload.WRITE, 128 * 1024, 32));

    /** The start-up workloads, each in a fresh JVM against the engine on its default drive file. */
    private static final List<Case> STARTUP = List.of(
            new Case(Workload.RANDREAD, 4096, 32),
            new Case(Workload.RANDWRITE, 4096, 32),
            new Case(Workload.WRITE, 128 * 1024, 8));

    /**
     * One case: the in-process target on memory, on the engine with its default drive file and with its
     * drive in memory (both null if not measured), and the echo baseline.
     */
    private record Row(BenchResult memory, BenchResult engine, BenchResult engineOnMemoryDrive, BenchResult echo) {
        List<BenchResult> all() {
            List<BenchResult> all = new ArrayList<>(List.of(memory, echo));
            if (engine != null) {
                all.addAll(List.of(engine, engineOnMemoryDrive));
            }
            return all;
        }
    }

    /** A write-amplification run, or why it failed. */
    private record Wa(double fill, Skew skew, EngineBench.WaResult result, String failure) {
    }

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
        List<Row> rows = new ArrayList<>();
        List<Wa> wa = new ArrayList<>();
        List<StartupBench.Result> startup = new ArrayList<>();
        List<EngineBench.CompressionResult> compression;
        List<ErasureBench.Result> erasure;
        List<CheckpointBench.Result> checkpoints;
        QosBench.Results qos;
        List<String> loads = new ArrayList<>();
        long start = System.nanoTime();
        try {
            loads.add("at the start: " + loadAverage());
            for (Case c : MATRIX) {
                BenchOptions options = base.with(c.workload(), c.ioSize(), c.queueDepth());
                BenchResult memory = Benchmark.run(options.against(true, false, false));
                System.out.println(memory.summary());
                BenchResult engine = null;
                BenchResult engineOnMemoryDrive = null;
                if (c.onEngine()) {
                    engine = Benchmark.run(options.against(true, true, false).withMemoryDrive(false));
                    System.out.println(engine.summary());
                    engineOnMemoryDrive = Benchmark.run(options.against(true, true, false).withMemoryDrive(true));
                    System.out.println(engineOnMemoryDrive.summary());
                }
                BenchResult echo = Benchmark.run(options.against(false, false, true));
                System.out.println(echo.summary());
                rows.add(new Row(memory, engine, engineOnMemoryDrive, echo));
            }
            loads.add("after the NVMe/TCP runs: " + loadAverage());
            for (Case c : STARTUP) {
                StartupBench.Result r = StartupBench.measure(base.with(c.workload(), c.ioSize(), c.queueDepth())
                        .against(true, true, false).withMemoryDrive(false));
                System.out.println("start-up " + label(r.options()) + ": " + (r.failure() != null ? r.failure()
                        : String.format(Locale.ROOT, "first %,.0f IOPS, steady %,.0f", r.firstIops(), r.steadyIops())));
                startup.add(r);
            }
            for (double fill : EngineBench.WA_FILLS) {
                for (Skew skew : EngineBench.WA_SKEWS) {
                    try {
                        EngineBench.WaResult r = EngineBench.writeAmplification(base.engineDir(),
                                EngineBench.WA_DRIVE_BYTES, fill, skew);
                        System.out.println(r.summary());
                        wa.add(new Wa(fill, skew, r, null));
                    } catch (Exception e) { // a stuck or failing engine is a finding, not a reason to lose the report
                        System.err.println("basalt bench: write amplification at " + fill + ", " + skew.label()
                                + " failed: " + BenchCommand.describe(e));
                        wa.add(new Wa(fill, skew, null, BenchCommand.describe(e)));
                    }
                }
            }
            loads.add("after the write-amplification runs: " + loadAverage());
            compression = EngineBench.compression(base.engineDir());
            checkpoints = CheckpointBench.measureAll(base.engineDir(), CheckpointBench.defaultSizes());
            erasure = ErasureBench.measure(ErasureBench.DEFAULT_SECONDS, ErasureBench.DEFAULT_WARMUP_SECONDS);
            qos = QosBench.measure(base.seconds(), base.warmUpSeconds());
            loads.add("at the end: " + loadAverage());
            double minutes = (System.nanoTime() - start) / 60e9;
            SectionMode.writeReport(output, markdown(base, String.join(" ", args), rows, startup, wa, compression,
                    checkpoints, erasure, qos, loads, minutes), OWNED_SECTIONS);
        } catch (Exception e) {
            System.err.println("basalt bench: " + BenchCommand.describe(e));
            return BenchCommand.EXIT_FAILED;
        }
        System.out.println("Wrote " + output);
        boolean failures = rows.stream().flatMap(r -> r.all().stream()).anyMatch(r -> r.errors() > 0)
                || startup.stream().anyMatch(r -> r.failure() != null)
                || wa.stream().anyMatch(w -> w.result() == null || w.result().failed())
                || compression.stream().anyMatch(c -> c.load().errors() > 0) || qos.errors() > 0;
        return failures ? BenchCommand.EXIT_FAILED : 0;
    }

    private static String markdown(BenchOptions base, String command, List<Row> rows, List<StartupBench.Result> startup,
                                   List<Wa> wa,
                                   List<EngineBench.CompressionResult> compression,
                                   List<CheckpointBench.Result> checkpoints, List<ErasureBench.Result> erasure,
                                   QosBench.Results qos, List<String> loads,
                                   double minutes) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks\n\n");
        md.append("""
                Written by `bin/basalt bench --report`, which measures, one after the other in one process:
                Basalt's NVMe/TCP data path against the loopback ceiling; the same path in front of the storage
                engine instead of memory, on a drive file and on a drive in memory; the first seconds of a fresh
                JVM against steady state; the storage engine on its own (write amplification and compression);
                the erasure coding library on its own; and volume QoS limits on a whole node in process. Ratios
                compare runs of the same report, minutes apart on the same machine. The report rewrites only its
                own sections (and this header); other sections of the file are kept as they are.

                """);
        md.append("- Command: `bin/basalt bench ").append(command).append("`\n");
        md.append(machineLines());
        md.append("- Date: ").append(LocalDate.now(ZoneOffset.UTC)).append(String.format(Locale.ROOT,
                "; the whole report took %.1f min%n", minutes));
        md.append("- Load average (1, 5, 15 min; the machine may be shared and figures swing with it): ")
                .append(String.join("; ", loads)).append("\n\n");

        md.append("## NVMe/TCP against the loopback ceiling\n\n");
        md.append("""
                The Java host (`io.basalt.nvmetcp.host`), loopback TCP, the target (`io.basalt.nvmetcp.nvmet`)
                and an in-memory namespace, measured against an echo server that moves the same bytes per I/O (a
                write is its data answered by a 24-byte reply; a read is a 72-byte request answered by its data)
                and does nothing else. Both run in one process on 127.0.0.1, driven by the same closed loop (queue
                depth I/Os per connection, each started again when it completes). The ratio is Basalt's IOPS over
                the echo server's: how much of what loopback TCP allows the protocol keeps.

                Latencies are measured by the client from submission to completion. Writes are stored: the
                namespace copies each one into its memory (a random place in the working set), which the echo
                server never does; in a JFR profile of 4 KiB random writes at queue depth 32 that copy is about a
                third of the samples, and it accounts for most of the gap between the write and the read ratios.

                """);
        md.append("Each workload: ").append(base.warmUpSeconds()).append(" s warm-up, ").append(base.seconds())
                .append(" s measured, ").append(base.connections()).append(" connection(s)")
                .append(base.digests() ? ", header and data digests" : ", no digests")
                .append("; working set ").append(Benchmark.DEFAULT_LOCAL_WORKING_SET >> 20)
                .append(" MiB of ").append(SelfTarget.BLOCK_SIZE).append("-byte blocks, written through once before.\n\n");
        md.append("""
                *Alloc B/IO* is the heap the target allocated per I/O while measuring (every thread of the
                process but the host's event loops, `TargetThreadCosts`).

                """);
        md.append("| Workload | Basalt IOPS | Basalt MiB/s | p50 µs | p99 µs | p99.9 µs | Alloc B/IO | Echo IOPS | Echo MiB/s | Echo p50 µs | Echo p99 µs | Ratio |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Row row : rows) {
            BenchResult b = row.memory();
            BenchResult e = row.echo();
            md.append(String.format(Locale.ROOT, "| %s | %,.0f | %,.1f | %.1f | %.1f | %.1f | %,.0f | %,.0f | %,.1f | %.1f | %.1f | %.0f%% |%n",
                    label(b), b.iops(), b.mibPerSecond(), b.micros(0.5), b.micros(0.99), b.micros(0.999),
                    b.allocatedPerIo(), e.iops(), e.mibPerSecond(), e.micros(0.5), e.micros(0.99), 100 * b.iops() / e.iops()));
        }

        md.append("\n## NVMe/TCP in front of the storage engine\n\n");
        md.append(String.format(Locale.ROOT, """
                The same path and load with the namespace on a volume of the storage engine
                (`io.basalt.service.engine`) instead of memory: one drive, a sparse %d GiB file in a temporary
                directory, and the node's default settings (%d MiB segments, volatile write cache: no sync per
                write, checkpoints every %d MiB or %d s). Each run opens a fresh engine and writes the %d MiB
                volume through once before it starts. Each workload runs twice: with the engine's default drive,
                a file that lives in the page cache (the engine's CPU path plus the kernel's page-cache copies,
                not a disk), and with its drive in memory (`engine.drives=memory:SIZE`, `--memory-drive`: the
                engine's own cost, like SPDK's malloc bdev). *Memory IOPS* is the in-memory namespace of the
                table above (no engine); the ratio is the engine's IOPS over it (aims: writes ≥ 70%%, reads
                ≥ 85%%). The threads and copies of a read and a write are in docs/architecture.md.

                """, SelfTarget.ENGINE_DRIVE_BYTES >> 30, io.basalt.service.engine.EngineConfig.DEFAULT_SEGMENT_SIZE >> 20,
                BenchEngine.CHECKPOINT_BYTES >> 20, BenchEngine.CHECKPOINT_MILLIS / 1000,
                Benchmark.DEFAULT_LOCAL_WORKING_SET >> 20));
        md.append("| Workload | Drive | Engine IOPS | Engine MiB/s | p50 µs | p99 µs | p99.9 µs | Alloc B/IO | Memory IOPS | Memory p50 µs | Memory p99 µs | Ratio | Aim |\n");
        md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Row row : rows) {
            if (row.engine() == null) {
                continue;
            }
            BenchResult m = row.memory();
            for (BenchResult n : List.of(row.engine(), row.engineOnMemoryDrive())) {
                double ratio = n.iops() / m.iops();
                double aim = n.options().workload().read ? 0.85 : 0.70;
                md.append(String.format(Locale.ROOT, "| %s | %s | %,.0f | %,.1f | %.1f | %.1f | %.1f | %,.0f | %,.0f | %.1f | %.1f | %.0f%% | %s %.0f%% |%n",
                        label(n), n.options().memoryDrive() ? "memory" : "file", n.iops(), n.mibPerSecond(),
                        n.micros(0.5), n.micros(0.99), n.micros(0.999), n.allocatedPerIo(), m.iops(),
                        m.micros(0.5), m.micros(0.99), 100 * ratio, ratio >= aim ? "met, ≥" : "**missed**, ≥", 100 * aim));
            }
        }

        md.append('\n').append(StartupBench.markdown(startup));

        md.append("\n## Storage engine: write amplification\n\n");
        md.append(String.format(Locale.ROOT, """
                The engine alone (`EngineVolume` through the data-plane volume layer, no network) on a %d GiB
                drive file: a volume of the given share of the engine's capacity (`Engine.capacityBytes()`: the
                drive's segments less the garbage collector's reserve), written through sequentially, then
                overwritten with %d KiB writes, %d in flight, %.0f× the volume's size, at places chosen uniformly
                at random or skewed (80/20: 80%% of the writes to 20%% of the blocks; 90/10 likewise). Write
                amplification is bytes written to the drive (log batches: payload, entries, headers, and the
                blocks garbage collection relocates) over bytes written by the host, counted over the overwrite
                phase only (aims at 80%% full: uniform ≤ 2.9, 90/10 ≤ 2.0). Uniformly random overwrites are the
                worst case for a log: no block is colder than another. Skewed workloads are where a log can do
                better, by keeping the blocks garbage collection relocates (cold: they outlived a segment) in
                segments of their own, apart from new host writes, and by choosing victims by cost and benefit
                with age. A run that stops early (time limit %d s, or more than %d failed writes) reports what
                it measured until then.

                """, EngineBench.WA_DRIVE_BYTES >> 30, EngineBench.WA_IO_SIZE >> 10, EngineBench.WA_DEPTH,
                EngineBench.WA_PASSES, EngineBench.WA_MAX_SECONDS, EngineBench.WA_MAX_ERRORS));
        md.append("| Full | Workload | Volume MiB | Capacity MiB | Write amplification | Passes | Host MiB | Drive MiB | Relocated MiB | Segments reclaimed | Overwrite IOPS | Overwrite MB/s | Throttled | Capacity errors |\n");
        md.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Wa w : wa) {
            EngineBench.WaResult r = w.result();
            if (r == null) {
                md.append(String.format(Locale.ROOT, "| %.0f%% | %s | failed: %s ||||||||||||%n", 100 * w.fill(),
                        w.skew().label(), w.failure().replace('|', '/')));
                continue;
            }
            md.append(String.format(Locale.ROOT, "| %.0f%% | %s | %,d | %,d | %.2f%s | %.2f | %,d | %,d | %,d | %,d | %,.0f | %.1f | %d | %d |%n",
                    100 * r.fill(), r.skew().label(), r.volumeBytes() >> 20, r.capacityBytes() >> 20, r.writeAmplification(),
                    r.failed() ? " (see Errors)" : "", r.passes(),
                    r.hostBytes() >> 20, r.driveBytes() >> 20, r.relocatedBytes() >> 20, r.segmentsReclaimed(),
                    r.overwrite().writes() / r.overwrite().seconds(), r.overwrite().mbPerSecond(), r.throttled(),
                    r.capacityErrors()));
        }

        md.append("\n## Storage engine: compression\n\n");
        md.append(String.format(Locale.ROOT, """
                The engine alone on a %d GiB (sparse) drive file: for each case a fresh %d MiB volume written
                through once with sequential %d KiB writes, %d in flight, then deleted. The ratio is logical bytes
                mapped over bytes stored (`Engine.usage`); throughput is host bytes over the time until the last
                write completed. The engine compresses each block on its own (LZ4; kept only if it saves an
                eighth), so the block size bounds what compression can find. Data: `random` is incompressible;
                `text` is English-like text (words of a 1,000-word vocabulary, Zipf-like); `half-zero` is, every
                512 bytes, 256 random bytes and 256 zeros.

                """, EngineBench.COMPRESSION_DRIVE_BYTES >> 30, EngineBench.COMPRESSION_VOLUME_BYTES >> 20,
                EngineBench.COMPRESSION_IO_SIZE >> 10, EngineBench.COMPRESSION_DEPTH));
        md.append("| Block size | Data | Compression | Ratio | Mapped MiB | Stored MiB | Write MB/s |\n");
        md.append("| ---: | --- | --- | ---: | ---: | ---: | ---: |\n");
        for (EngineBench.CompressionResult c : compression) {
            md.append(String.format(Locale.ROOT, "| %d | %s | %s | %.2f | %,d | %,d | %,.0f |%n", c.blockSize(),
                    c.kind().label(), c.compressed() ? "on" : "off", c.ratio(), c.usage().mappedBytes() >> 20,
                    c.usage().storedBytes() >> 20, c.load().mbPerSecond()));
        }

        md.append('\n').append(CheckpointBench.markdown(checkpoints));
        md.append('\n').append(ErasureBench.markdown(erasure, ErasureBench.DEFAULT_SECONDS,
                ErasureBench.DEFAULT_WARMUP_SECONDS));
        md.append('\n').append(QosBench.markdown(qos, "bin/basalt bench " + command));

        List<String> errors = new ArrayList<>();
        for (Row row : rows) {
            for (BenchResult r : row.all()) {
                if (r.errors() > 0) {
                    errors.add(r.summary());
                }
            }
        }
        for (StartupBench.Result r : startup) {
            if (r.failure() != null) {
                errors.add("start-up " + label(r.options()) + ": " + r.failure());
            }
        }
        for (Wa w : wa) {
            if (w.result() != null && w.result().failed()) {
                errors.add(w.result().summary());
            }
        }
        for (EngineBench.CompressionResult c : compression) {
            if (c.load().errors() > 0) {
                errors.add(c.summary());
            }
        }
        if (!errors.isEmpty()) {
            md.append('\n').append(ERRORS_TITLE).append("\n\n");
            errors.forEach(e -> md.append("- ").append(e).append('\n'));
        }
        return md.toString();
    }

    /** The report's "Machine" and "JDK" lines: CPUs, CPU model, kernel, JVM and Netty transport. */
    static String machineLines() throws IOException {
        return "- Machine: " + Runtime.getRuntime().availableProcessors() + " CPUs (`nproc`), " + cpuModel() + ", "
                + System.getProperty("os.name") + ' ' + System.getProperty("os.version") + "\n"
                + "- JDK: " + System.getProperty("java.vm.name") + ' ' + System.getProperty("java.runtime.version")
                + "; transport: " + (Epoll.isAvailable() ? "epoll" : "NIO") + "\n";
    }

    private static String label(BenchResult r) {
        return label(r.options());
    }

    static String label(BenchOptions o) {
        return String.format(Locale.ROOT, "%s %s qd %d", BenchResult.sizeLabel(o.ioSize()).replace("k", " KiB"),
                o.workload().label(), o.queueDepth());
    }

    static String loadAverage() throws IOException {
        Path loadavg = Path.of("/proc/loadavg");
        if (!Files.isReadable(loadavg)) {
            return "unknown";
        }
        String[] fields = Files.readString(loadavg).split(" ");
        return fields[0] + ", " + fields[1] + ", " + fields[2];
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
