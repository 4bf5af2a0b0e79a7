package io.basalt.bench;

import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.client.ApiOptions;
import io.basalt.bridge.client.VolumeApiException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;

/**
 * {@code basalt bench}: measures IOPS, bandwidth and latency of an NVMe/TCP namespace through Basalt's
 * own host, against a remote target, an in-process one ({@code --self}), or the loopback echo baseline.
 * {@code --report} runs the standard matrix and writes docs/benchmarks.md.
 *
 * <p>Its modes share options in ways picocli's option groups do not express, so picocli hands the
 * arguments to {@link BenchOptions} (and the report and engine-only modes) and prints the help below.
 *
 * <p>Exit status: 0 done, 1 the run failed (or some I/Os failed), 2 bad command line.
 */
@Command(name = "bench", description = "Measure an NVMe/TCP target with the built-in host.",
        customSynopsis = {
                "basalt bench (--target ADDR:PORT --nqn NQN [--nsid N] | --volume VOLUME | --self | --baseline echo)",
                "             [--host-nqn NQN] [--rw randread|randwrite|read|write] [--bs SIZE] [--qd N]",
                "             [--connections N] [--seconds N] [--warmup N] [--size SIZE] [--digest]",
                "basalt bench --engine [--engine-dir DIR | --memory-drive] [the options of --self]",
                "basalt bench --startup [the options of --self or --engine]",
                "basalt bench --node-startup [--rounds N] [--node-warmup N] [--aot-cache FILE] [--engine-dir DIR]",
                "             [--output FILE] [--rw ...] [--bs SIZE] [--qd N] [--connections N] [--seconds N] [--warmup N]",
                "basalt bench --write-amplification [--fill PERCENT]... [--drive-size SIZE] [--engine-dir DIR]",
                "basalt bench --compression [--engine-dir DIR]",
                "basalt bench --erasure-coding [--seconds N] [--warmup N]",
                "basalt bench --erasure-coded-io [--seconds N] [--warmup N] [--output FILE]",
                "basalt bench --rebuild [--seconds N] [--warmup N] [--output FILE]",
                "basalt bench --checkpoint [--mapped SIZE]... [--engine-dir DIR]",
                "basalt bench --qos [--seconds N] [--warmup N] [--output FILE]",
                "basalt bench --scrape-metrics [--seconds N] [--warmup N] [--output FILE]",
                "basalt bench --replication [--seconds N] [--warmup N] [--output FILE]",
                "basalt bench --failover [--kills N] [--lease-ttl SECONDS]... [--output FILE]",
                "basalt bench --transfer-sweep [--rounds N] [--seconds N] [--warmup N] [--memory-namespace] [--output FILE]",
                "basalt bench --report [--seconds N] [--warmup N] [--connections N] [--digest] [--engine-dir DIR]",
                "             [--output FILE]"},
        footerHeading = "%nTarget and load:%n",
        footer = {
                "  --target ADDR:PORT  an NVMe/TCP target (a node's port 4420)",
                "  --nqn NQN           the subsystem to connect to",
                "  --nsid N            the namespace to load (default 1)",
                "  --host-nqn NQN      the host NQN to connect as; the namespace's ACL must list it",
                "                      (default nqn.2026-11.io.basalt:bench)",
                "  --self              an in-process target on 127.0.0.1 backed by memory (no node needed)",
                "  --engine            the in-process target backed by a storage-engine volume instead: a fresh engine",
                "                      on an 8 GiB drive file in a temporary directory (--engine-dir, default",
                "                      the system's), node defaults (4 MiB segments, no sync per write)",
                "  --memory-drive      --engine with its drive in memory (engine.drives=memory:SIZE): the engine's",
                "                      own cost, like SPDK's malloc bdev",
                "  --baseline echo     an in-process echo server moving the same bytes per I/O: the loopback ceiling",
                "  --rw                I/O pattern (default randread)",
                "  --bs SIZE           bytes per I/O, e.g. 4k, 128k (default 4k)",
                "  --qd N              I/Os in flight per connection (default 32)",
                "  --connections N     I/O queues, one TCP connection each (default 1)",
                "  --seconds N         measured time (default 10), after --warmup seconds (default 2)",
                "  --size SIZE         bytes of the namespace to spread I/Os over (default: all of it; 256m locally)",
                "  --digest            header and data digests (CRC32C)",
                "  --startup           the workload in a fresh JVM of its own: IOPS of its first --seconds after the",
                "                      target started (no warm-up), then steady state in the same JVM after --warmup",
                "  --node-startup      whole nodes, each a process of its own as `serve` starts one: IOPS of the first",
                "                      --seconds after the node is ready, then steady state after --warmup, for nodes",
                "                      without and with their warm-up (node.warmup-seconds=--node-warmup, default 5)",
                "                      and, with --aot-cache FILE, with that JVM cache (made first if missing);",
                "                      --rounds of each (default 2); --output FILE puts the section into FILE",
                "  --write-amplification  the engine alone (no network): fill a volume to --fill percent of the engine's",
                "                      capacity (default 50 and 80), overwrite it at random with 4 KiB writes 3 times",
                "                      its size, print drive bytes over host bytes (--drive-size, default 1g)",
                "  --compression       the engine alone: compression ratio and write throughput of random, text-like",
                "                      and half-zero data, compression on and off, 512-byte and 4 KiB blocks",
                "  --erasure-coding    the erasure coding library alone: ISA-L and pure-Java encode and rebuild",
                "                      throughput of one thread for 2+1, 4+2 and 8+3 stripes of 4 KiB and 128 KiB",
                "                      chunks (--seconds per case, default 1, after --warmup, default 1)",
                "  --erasure-coded-io  a whole node in process on six drive files, without erasure coding and 4+2,",
                "                      then 4+2 with a drive file missing: 4 KiB and 128 KiB random writes and reads",
                "                      through NVMe/TCP, one connection at queue depth 32 (--seconds, default 5, after",
                "                      --warmup, default 2); --output FILE puts the section into FILE in its place",
                "  --rebuild           a whole node in process on six drive files of 1.5 GiB, 4+2: 4 KiB random reads",
                "                      and writes through NVMe/TCP (one connection, queue depth 32) healthy, with",
                "                      drive 1 failed, and while its replacement is rebuilt; the rebuild's rate with",
                "                      that I/O and alone against engine.rebuild-bytes-per-second (--seconds, default",
                "                      5, after --warmup, default 2); --output FILE puts the section into FILE",
                "  --checkpoint        the engine alone: for volumes of --mapped bytes (default 1g, 4g and 16g) written",
                "                      with compressible blocks, the writer's pause per checkpoint, the longest 4 KiB",
                "                      write during checkpoints and without, checkpoint time, file size, recovery time",
                "  --qos               a whole node in process (engine on a drive in memory), volume QoS limits set",
                "                      through its API: achieved against each limit (read, write, total IOPS; read,",
                "                      write bandwidth; 4 KiB and 128 KiB; 4 connections at queue depth 32), and a",
                "                      neighbour's IOPS alone and beside a noisy volume, limited and not (--seconds",
                "                      per run, default 5, after --warmup, default 2); --output FILE puts the section",
                "                      into FILE (e.g. docs/benchmarks.md) in place of its previous version",
                "  --scrape-metrics    a whole node in process (engine on a drive in memory) and the in-process memory",
                "                      namespace, 4 KiB random reads and writes at queue depth 1 and 32 on each, while",
                "                      the node's /metrics is scraped every second: IOPS, p50/p99/p99.9, engine over",
                "                      memory, scrapes and the slowest (--seconds, default 10, after --warmup, default",
                "                      2); --output FILE puts the section into FILE in place of its previous version",
                "  --replication       three engines in process, the secondaries' copies served over NVMe/TCP on",
                "                      loopback: 4 KiB random writes through the primary's replicated store with 1,",
                "                      2 and 3 copies at queue depth 1 and 32 (--seconds per run, default 5, after",
                "                      --warmup, default 2); --output FILE puts the section into FILE in place of its",
                "                      previous version",
                "  --failover          etcd (Debian's /usr/bin/etcd) on loopback and three nodes, each a process of its",
                "                      own in a failure domain of its own, one 3-copy volume written 4 KiB at queue",
                "                      depth 1 by the built-in host: the primary's process is killed (kill -9) --kills",
                "                      times (default 5), the host follows the volume's portals from the API, and the",
                "                      write pause (median, worst) and its parts are printed; the killed node is",
                "                      restarted and back in sync before the next kill. Each --lease-ttl (the nodes'",
                "                      cluster.lease-ttl-seconds, default 4 and the smallest, 2) runs a fresh",
                "                      cluster; --output FILE puts the section into FILE in place of its previous version",
                "  --transfer-sweep    in-process targets on one namespace (an engine volume on a drive in memory, or",
                "                      --memory-namespace) that differ only in the in-capsule data size (0 to 32 KiB,",
                "                      for 4, 16 and 32 KiB writes) or MAXH2CDATA (32 KiB to 1 MiB, for 128 KiB and",
                "                      1 MiB writes), one connection at queue depth 1 and 32: IOPS and the target's",
                "                      CPU per write, medians of --rounds (default 3) of --seconds (default 2) after",
                "                      --warmup (default 1), settings alternated; --output FILE puts the section into FILE",
                "  --report            run the standard matrix against --self (memory, engine on a drive file and",
                "                      on a memory drive) and the echo baseline, the first seconds of fresh JVMs",
                "                      against steady state, then --write-amplification, --compression,",
                "                      --checkpoint, --erasure-coding and --qos, and put their sections into",
                "                      --output (default docs/benchmarks.md), keeping its other sections",
                "",
                "Writes are destructive: run them only against a scratch volume."})
public final class BenchCommand implements Callable<Integer> {
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;

    @CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
    private boolean help;

    @CommandLine.Option(names = "--volume", paramLabel = "VOLUME",
            description = "instead of --target, --nqn and --nsid: a volume of a running node, by ID or name;"
                    + " its ACL must list the --host-nqn")
    private String volume;

    @CommandLine.Mixin
    private ApiOptions api;

    @CommandLine.Unmatched
    private List<String> arguments = new ArrayList<>();

    @Override
    public Integer call() {
        List<String> args = new ArrayList<>(arguments);
        if (volume != null) {
            try {
                args.addAll(0, targetOf(api.client(Duration.ofSeconds(30)).findVolume(volume)));
            } catch (VolumeApiException e) {
                System.err.println("basalt bench: " + e.getMessage());
                return EXIT_FAILED;
            }
        }
        return run(args.toArray(String[]::new), System.err);
    }

    /** The options that name the volume's namespace as --target, --nqn and --nsid do. */
    private static List<String> targetOf(Volume v) throws VolumeApiException {
        Portal portal = v.portals().stream().filter(p -> "tcp".equalsIgnoreCase(p.transport())).findFirst()
                .orElseThrow(() -> new VolumeApiException(0, "volume " + v.name() + " has no NVMe/TCP portal", null));
        return List.of("--target", portal.address() + ":" + portal.port(), "--nqn", v.nqn(), "--nsid", Integer.toString(v.nsid()));
    }

    private int run(String[] args, PrintStream err) {
        List<String> list = List.of(args);
        if (list.contains("--report")) {
            return BenchReport.run(args);
        }
        if (list.contains("--qos")) {
            return QosBench.run(args);
        }
        if (list.contains("--replication")) {
            return ReplicationBench.run(args);
        }
        if (list.contains("--transfer-sweep")) {
            return TransferSweepBench.run(args);
        }
        if (list.contains("--failover")) {
            return FailoverBench.run(args);
        }
        if (list.contains("--scrape-metrics")) {
            return ScrapeBench.run(args);
        }
        if (list.contains("--node-startup")) {
            return NodeStartupBench.run(args);
        }
        if (list.contains("--startup")) {
            return StartupBench.run(args, err);
        }
        if (list.contains("--checkpoint")) {
            return CheckpointBench.run(args);
        }
        if (list.contains("--rebuild")) {
            return RebuildBench.run(args);
        }
        if (list.contains("--erasure-coded-io")) {
            return ErasureIoBench.run(args);
        }
        if (list.contains("--erasure-coding")) {
            return ErasureBench.run(args);
        }
        if (list.contains("--write-amplification") || list.contains("--compression")) {
            return EngineBench.run(args);
        }
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("basalt bench: " + e.getMessage());
            usage(err);
            return EXIT_USAGE;
        }
        try {
            BenchResult result = Benchmark.run(options);
            System.out.println(result.summary());
            return result.errors() == 0 ? 0 : EXIT_FAILED;
        } catch (Exception e) {
            err.println("basalt bench: " + describe(e));
            return EXIT_FAILED;
        }
    }

    /** The help, for the modes that parse their own options. */
    static void usage(PrintStream out) {
        new CommandLine(new BenchCommand()).usage(out);
    }

    static String describe(Throwable e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return cause.getMessage() != null ? cause.getMessage() : cause.toString();
    }
}
