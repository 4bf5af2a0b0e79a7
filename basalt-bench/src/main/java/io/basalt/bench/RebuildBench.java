package io.basalt.bench;

import io.basalt.bridge.api.RebuildStatus;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.service.config.ConfigKey;
import io.basalt.service.config.ByteSize;
import io.netty.channel.EventLoopGroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code basalt bench --rebuild}: how fast a replaced drive of a 4+2 node is rebuilt, against
 * {@code engine.rebuild-bytes-per-second}, and the host I/O it leaves. One whole node in this process on
 * six drive files of {@value #DRIVE_MIB} MiB, its volume written through once; 4 KiB random reads and
 * writes through NVMe/TCP (Basalt's own host, one connection at queue depth 32) run healthy, then with
 * drive 1's file gone (restarted without it: failed, its chunks rebuilt from the others on every read
 * touching them), then right after drive 1 is replaced through the API, while its rebuild runs. The
 * rebuild's rate is measured from its progress in the API: while the host I/O ran, and alone after it.
 */
final class RebuildBench {
    static final String SECTION_TITLE = "## Rebuild of a replaced drive (4+2) and the host I/O it leaves";
    /** Big enough that the rebuild at the default rate outlasts the two workloads run during it. */
    private static final int DRIVE_MIB = 1536;
    private static final int IO_SIZE = 4096;
    private static final int FAILED_DRIVE = 1;
    private static final List<Workload> WORKLOADS = List.of(Workload.RANDREAD, Workload.RANDWRITE);
    private static final long POLL_MILLIS = 200;
    /** The longest wait for the rebuild to end: 1.5 GiB at 4 MiB/s. */
    private static final Duration REBUILD_TIMEOUT = Duration.ofMinutes(7);

    /** One workload healthy, degraded (drive failed) and while the replacement is rebuilt. */
    record Row(Workload workload, BenchResult healthy, BenchResult degraded, BenchResult rebuilding,
               boolean rebuildRanThroughout) {
        boolean failed() {
            return healthy.errors() + degraded.errors() + rebuilding.errors() > 0;
        }
    }

    /**
     * @param configuredBytesPerSecond {@code engine.rebuild-bytes-per-second}
     * @param totalBytes               bytes of the drive's chunks rebuilt
     * @param withIoBytes              of those, rebuilt while the host I/O ran
     * @param withIoSeconds            from the replacement to the end of the host I/O
     * @param aloneSeconds             from then to the end of the rebuild
     * @param reportedBytesPerSecond   the rate the API reported at the end
     * @param error                    why the rebuild stopped short, or null
     */
    record Rebuild(long configuredBytesPerSecond, long totalBytes, long withIoBytes, double withIoSeconds,
                   double aloneSeconds, long reportedBytesPerSecond, String error) {
        double withIoRate() {
            return withIoBytes / withIoSeconds;
        }

        double aloneRate() {
            return (totalBytes - withIoBytes) / aloneSeconds;
        }

        double overallRate() {
            return totalBytes / (withIoSeconds + aloneSeconds);
        }
    }

    record Results(List<Row> rows, Rebuild rebuild, int seconds, int warmUpSeconds, String loadAtStart,
                   String loadAtEnd) {
        boolean failed() {
            return rebuild.error() != null || rows.stream().anyMatch(Row::failed);
        }
    }

    private RebuildBench() {
    }

    /** {@code args}: {@code --rebuild [--seconds N] [--warmup N] [--output FILE]}. */
    static int run(String[] args) {
        return SectionMode.run(args, "--rebuild", SECTION_TITLE, 5, 2, RebuildBench::measure, RebuildBench::markdown,
                Results::failed);
    }

    static Results measure(int seconds, int warmUpSeconds) throws Exception {
        String loadAtStart = BenchReport.loadAverage();
        long driveBytes = (long) DRIVE_MIB << 20;
        long configured = ByteSize.parse(ConfigKey.ENGINE_REBUILD_BYTES_PER_SECOND.defaultValue());
        Path dataDir = Files.createTempDirectory("basalt-bench-rebuild-");
        EventLoopGroup hostGroup = EventLoops.createForHost(1);
        try {
            List<BenchResult> healthy = new ArrayList<>();
            try (ErasureIoBench.Node node = ErasureIoBench.Node.start(dataDir, "4+2", driveBytes, hostGroup)) {
                node.fill();
                for (Workload workload : WORKLOADS) {
                    healthy.add(print("healthy", node.run(workload, IO_SIZE, seconds, warmUpSeconds)));
                }
            }
            Files.delete(ErasureIoBench.drive(dataDir, FAILED_DRIVE));
            try (ErasureIoBench.Node node = ErasureIoBench.Node.start(dataDir, "4+2", driveBytes, hostGroup)) {
                List<BenchResult> degraded = new ArrayList<>();
                for (Workload workload : WORKLOADS) {
                    degraded.add(print("degraded", node.run(workload, IO_SIZE, seconds, warmUpSeconds)));
                }
                VolumeApiClient api = new VolumeApiClient(QosBench.apiUri(node.node()), QosBench.adminToken(dataDir),
                        Duration.ofSeconds(30));
                long start = System.nanoTime();
                api.replaceDrive(FAILED_DRIVE, dataDir.resolve("replacement" + FAILED_DRIVE + ".img").toString());
                List<Row> rows = new ArrayList<>();
                for (int i = 0; i < WORKLOADS.size(); i++) {
                    BenchResult during = print("rebuilding", node.run(WORKLOADS.get(i), IO_SIZE, seconds, warmUpSeconds));
                    rows.add(new Row(WORKLOADS.get(i), healthy.get(i), degraded.get(i), during,
                            api.drives().rebuild().running()));
                }
                RebuildStatus atIoEnd = api.drives().rebuild();
                long ioEnd = System.nanoTime();
                RebuildStatus done = awaitRebuilt(api);
                long end = System.nanoTime();
                Rebuild rebuild = new Rebuild(configured, done.totalBytes(), atIoEnd.doneBytes(),
                        (ioEnd - start) / 1e9, (end - ioEnd) / 1e9, done.bytesPerSecond(), done.error());
                System.out.println(summary(rebuild));
                return new Results(rows, rebuild, seconds, warmUpSeconds, loadAtStart, BenchReport.loadAverage());
            }
        } finally {
            EventLoops.shutdown(hostGroup);
            BenchEngine.delete(dataDir);
        }
    }

    private static RebuildStatus awaitRebuilt(VolumeApiClient api) throws Exception {
        long deadline = System.nanoTime() + REBUILD_TIMEOUT.toNanos();
        RebuildStatus status = api.drives().rebuild();
        while (status.running()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the rebuild did not end within " + REBUILD_TIMEOUT.toMinutes()
                        + " minutes: " + status);
            }
            Thread.sleep(POLL_MILLIS);
            status = api.drives().rebuild();
        }
        return status;
    }

    private static BenchResult print(String state, BenchResult result) {
        System.out.println("rebuild " + state + ": " + result.summary());
        return result;
    }

    private static String summary(Rebuild r) {
        return String.format(Locale.ROOT, "rebuild: %s in %.1f s, %s/s overall (configured %s/s), %s/s with host I/O, "
                        + "%s/s alone%s", ByteSize.format(r.totalBytes()), r.withIoSeconds() + r.aloneSeconds(),
                ByteSize.format((long) r.overallRate()), ByteSize.format(r.configuredBytesPerSecond()),
                ByteSize.format((long) r.withIoRate()), ByteSize.format((long) r.aloneRate()),
                r.error() == null ? "" : "  STOPPED: " + r.error());
    }

    /** The section for docs/benchmarks.md: how it was measured, with the command, the machine and the load. */
    static String markdown(Results r, String command) throws IOException {
        Rebuild b = r.rebuild();
        StringBuilder md = new StringBuilder();
        md.append(SECTION_TITLE).append("\n\n");
        md.append(String.format(Locale.ROOT, """
                Written by `bin/basalt bench --rebuild --output docs/benchmarks.md` (which replaces this section
                only). One whole node in one process (volume API, NVMe/TCP target, data-plane volume layer,
                storage engine) on 6 drive files of %d MiB in one temporary directory (page cache, no device
                below), 4+2, node defaults otherwise (4 MiB segments, no sync per write,
                `engine.rebuild-bytes-per-second` %s/s). Its %d MiB volume is written through once with 128 KiB
                writes; Basalt's own host runs 4 KiB random reads, then writes, on loopback TCP, one connection
                at queue depth 32, %d s warm-up and %d s measured each: *healthy*; *degraded*, the node restarted
                without drive %d's file (failed: a read touching its chunks rebuilds them from the others);
                *rebuilding*, right after `POST /api/v1/drives/%d/replace` put a new file in its place, while the
                rebuild runs (it rebuilds every segment of the drive, free ones too; reads of segments not yet
                rebuilt are still degraded). The rebuild's rate comes from its progress in the API: the bytes
                rebuilt from the replacement to the end of the host I/O, then alone to the end.

                """, DRIVE_MIB, ByteSize.format(b.configuredBytesPerSecond()), QosBench.VOLUME_BYTES >> 20,
                r.warmUpSeconds(), r.seconds(), FAILED_DRIVE, FAILED_DRIVE));
        md.append(SectionMode.runLines(command, r.loadAtStart(), r.loadAtEnd()));
        md.append("| Rebuild of drive ").append(FAILED_DRIVE).append(" | Bytes | Seconds | Rate | Rate / configured |\n");
        md.append("| --- | ---: | ---: | ---: | ---: |\n");
        rebuildRow(md, "with the host I/O below", b.withIoBytes(), b.withIoSeconds(), b.configuredBytesPerSecond());
        rebuildRow(md, "alone, after it", b.totalBytes() - b.withIoBytes(), b.aloneSeconds(), b.configuredBytesPerSecond());
        rebuildRow(md, "whole rebuild", b.totalBytes(), b.withIoSeconds() + b.aloneSeconds(), b.configuredBytesPerSecond());
        if (b.error() != null) {
            md.append("\nThe rebuild stopped short: ").append(b.error()).append('\n');
        }
        md.append("\n| 4 KiB workload | Healthy IOPS | Healthy p99 µs | Degraded IOPS | Degraded p99 µs "
                + "| Rebuilding IOPS | Rebuilding p99 µs | Rebuilding / healthy |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Row row : r.rows()) {
            md.append(String.format(Locale.ROOT, "| %s | %,.0f | %.0f | %,.0f | %.0f | %,.0f%s | %.0f | %.0f%% |%n",
                    row.workload().label(), row.healthy().iops(), row.healthy().micros(0.99), row.degraded().iops(),
                    row.degraded().micros(0.99), row.rebuilding().iops(),
                    row.rebuildRanThroughout() ? "" : " (the rebuild ended before this run did)",
                    row.rebuilding().micros(0.99), 100 * row.rebuilding().iops() / row.healthy().iops()));
        }
        List<String> errors = r.rows().stream().filter(Row::failed).map(row -> row.healthy().summary() + "; "
                + row.degraded().summary() + "; " + row.rebuilding().summary()).toList();
        if (!errors.isEmpty()) {
            md.append("\nErrors:\n\n");
            errors.forEach(e -> md.append("- ").append(e).append('\n'));
        }
        return md.toString();
    }

    private static void rebuildRow(StringBuilder md, String phase, long bytes, double seconds, long configured) {
        double rate = bytes / seconds;
        md.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %s/s | %.0f%% |%n", phase, ByteSize.format(bytes),
                seconds, ByteSize.format((long) rate), 100 * rate / configured));
    }
}
