package io.basalt.service.bench;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;

/**
 * {@code basalt bench}: measures IOPS, bandwidth and latency of an NVMe/TCP namespace through Basalt's
 * own host, against a remote target, an in-process one ({@code --self}), or the loopback echo baseline.
 * {@code --report} runs the standard matrix and writes docs/benchmarks.md.
 *
 * <p>Exit status: 0 done, 1 the run failed (or some I/Os failed), 2 bad command line.
 */
public final class BenchCommand {
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;

    private BenchCommand() {
    }

    public static int run(String[] args) {
        List<String> list = Arrays.asList(args);
        if (list.contains("--help") || list.contains("-h")) {
            usage(System.out);
            return 0;
        }
        if (list.contains("--report")) {
            return BenchReport.run(args);
        }
        if (list.contains("--write-amplification") || list.contains("--compression")) {
            return EngineBench.run(args);
        }
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("basalt bench: " + e.getMessage());
            usage(System.err);
            return EXIT_USAGE;
        }
        try {
            BenchResult result = Benchmark.run(options);
            System.out.println(result.summary());
            return result.errors() == 0 ? 0 : EXIT_FAILED;
        } catch (Exception e) {
            System.err.println("basalt bench: " + describe(e));
            return EXIT_FAILED;
        }
    }

    static String describe(Throwable e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return cause.getMessage() != null ? cause.getMessage() : cause.toString();
    }

    static void usage(PrintStream out) {
        out.println("""
                Usage: basalt bench (--target ADDR:PORT --nqn NQN [--nsid N] [--host-nqn NQN] | --self | --baseline echo)
                                    [--rw randread|randwrite|read|write] [--bs SIZE] [--qd N] [--connections N]
                                    [--seconds N] [--warmup N] [--size SIZE] [--digest]
                       basalt bench --engine [--engine-dir DIR] [the options of --self]
                       basalt bench --write-amplification [--fill PERCENT]... [--drive-size SIZE] [--engine-dir DIR]
                       basalt bench --compression [--engine-dir DIR]
                       basalt bench --report [--seconds N] [--warmup N] [--connections N] [--digest] [--engine-dir DIR]
                                             [--output FILE]

                  --target ADDR:PORT  an NVMe/TCP target (a node's port 4420)
                  --nqn NQN           the subsystem to connect to
                  --nsid N            the namespace to load (default 1)
                  --host-nqn NQN      the host NQN to connect as; the namespace's ACL must list it
                                      (default nqn.2026-11.io.basalt:bench)
                  --self              an in-process target on 127.0.0.1 backed by memory (no node needed)
                  --engine            the in-process target backed by a storage-engine volume instead: a fresh engine
                                      on a sparse 8 GiB drive file in a temporary directory (--engine-dir, default
                                      the system's), node defaults (4 MiB segments, no sync per write)
                  --baseline echo     an in-process echo server moving the same bytes per I/O: the loopback ceiling
                  --rw                I/O pattern (default randread)
                  --bs SIZE           bytes per I/O, e.g. 4k, 128k (default 4k)
                  --qd N              I/Os in flight per connection (default 32)
                  --connections N     I/O queues, one TCP connection each (default 1)
                  --seconds N         measured time (default 10), after --warmup seconds (default 2)
                  --size SIZE         bytes of the namespace to spread I/Os over (default: all of it; 256m locally)
                  --digest            header and data digests (CRC32C)
                  --write-amplification  the engine alone (no network): fill a volume to --fill percent of the engine's
                                      capacity (default 50 and 80), overwrite it at random with 4 KiB writes 3 times
                                      its size, print drive bytes over host bytes (--drive-size, default 1g)
                  --compression       the engine alone: compression ratio and write throughput of random, text-like
                                      and half-zero data, compression on and off, 512-byte and 4 KiB blocks
                  --report            run the standard matrix against --self (memory and engine) and the echo
                                      baseline, then --write-amplification and --compression, and write --output
                                      (default docs/benchmarks.md)

                Writes are destructive: run them only against a scratch volume.""");
    }
}
