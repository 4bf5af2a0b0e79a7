package io.basalt.bench;

import io.basalt.service.engine.ec.ErasureCoder;
import io.basalt.service.engine.ec.ErasureCoders;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * The erasure coding library on its own: encode and rebuild throughput of one thread (one core),
 * ISA-L's coder and the pure-Java one one after the other in the same run, per layout and chunk size.
 * Throughput counts the stripe's data bytes (k chunks) per second; allocation is the thread's
 * allocated bytes per call over the measured phase (the coders should allocate nothing).
 */
final class ErasureBench {
    static final int[][] LAYOUTS = {{2, 1}, {4, 2}, {8, 3}};
    static final int[] CHUNK_SIZES = {4096, 128 * 1024};
    static final int DEFAULT_SECONDS = 1;
    static final int DEFAULT_WARMUP_SECONDS = 1;
    /** Calls between two looks at the clock. */
    static final String SECTION_TITLE = "## Erasure coding library";
    private static final int BATCH = 16;

    /** What is measured on a stripe. */
    enum Operation {
        ENCODE("encode"),
        REBUILD_ONE("rebuild 1 data chunk"),
        REBUILD_M("rebuild m data chunks");

        final String label;

        Operation(String label) {
            this.label = label;
        }
    }

    /** One case for both coders; {@code isal} is null where ISA-L is missing. */
    record Result(int k, int m, int chunkBytes, Operation operation, Measure isal, Measure java) {
    }

    record Measure(double dataMBPerSecond, double allocatedBytesPerCall) {
    }

    private ErasureBench() {
    }

    static List<Result> measure(int seconds, int warmupSeconds) {
        List<Result> results = new ArrayList<>();
        for (int[] layout : LAYOUTS) {
            int k = layout[0];
            int m = layout[1];
            ErasureCoder isal = ErasureCoders.isalUnavailable().isPresent() ? null : ErasureCoders.isal(k, m);
            ErasureCoder java = ErasureCoders.java(k, m);
            for (int chunkBytes : CHUNK_SIZES) {
                for (Operation operation : Operation.values()) {
                    Result r = new Result(k, m, chunkBytes, operation,
                            isal == null ? null : measure(isal, chunkBytes, operation, seconds, warmupSeconds),
                            measure(java, chunkBytes, operation, seconds, warmupSeconds));
                    System.out.println(summary(r));
                    results.add(r);
                }
            }
        }
        return results;
    }

    private static Measure measure(ErasureCoder coder, int chunkBytes, Operation operation, int seconds,
                                   int warmupSeconds) {
        int k = coder.dataChunks();
        int m = coder.parityChunks();
        ByteBuffer[] data = new ByteBuffer[k];
        ByteBuffer[] parity = new ByteBuffer[m];
        ByteBuffer[] stripe = new ByteBuffer[k + m];
        Random random = new Random(k * 31 + m);
        for (int i = 0; i < k + m; i++) {
            stripe[i] = ByteBuffer.allocateDirect(chunkBytes);
            byte[] bytes = new byte[chunkBytes];
            random.nextBytes(bytes);
            stripe[i].put(0, bytes);
        }
        System.arraycopy(stripe, 0, data, 0, k);
        System.arraycopy(stripe, k, parity, 0, m);
        coder.encode(data, parity);
        int[] missing = operation == Operation.REBUILD_ONE ? new int[] {0}
                : java.util.stream.IntStream.range(0, m).toArray();
        IntConsumer call = operation == Operation.ENCODE
                ? n -> {
                    for (int i = 0; i < n; i++) {
                        coder.encode(data, parity);
                    }
                }
                : n -> {
                    for (int i = 0; i < n; i++) {
                        coder.reconstruct(stripe, missing);
                    }
                };
        run(call, warmupSeconds);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        long calls = run(call, seconds);
        double elapsed = (System.nanoTime() - start) / 1e9;
        long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
        return new Measure(calls * (double) k * chunkBytes / elapsed / 1e6, (double) allocated / calls);
    }

    /** Calls in batches until {@code seconds} have passed; how many calls. */
    private static long run(IntConsumer batch, int seconds) {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long calls = 0;
        do {
            batch.accept(BATCH);
            calls += BATCH;
        } while (System.nanoTime() < end);
        return calls;
    }

    private static String summary(Result r) {
        return String.format(Locale.ROOT, "erasure coding %d+%d %s %s: ISA-L %s, Java %,.0f MB/s", r.k(), r.m(),
                BenchResult.sizeLabel(r.chunkBytes()), r.operation().label,
                r.isal() == null ? "n/a" : String.format(Locale.ROOT, "%,.0f MB/s", r.isal().dataMBPerSecond()),
                r.java().dataMBPerSecond());
    }

    /** The Markdown section of the report. */
    static String markdown(List<Result> results, int seconds, int warmupSeconds) {
        StringBuilder md = new StringBuilder();
        md.append(SECTION_TITLE).append("\n\n");
        md.append(String.format(Locale.ROOT, """
                The Reed-Solomon coders of `io.basalt.service.engine.ec` on their own, one thread (one core):
                ISA-L's (`libisal.so.2` through java.lang.foreign) and the pure-Java fallback, which writes the
                same parity, measured one after the other in the same run. Each case: %d s warm-up, %d s
                measured, on one stripe of direct buffers in memory (the chunks fit the CPU caches: this is the
                coders' arithmetic, not memory bandwidth). Throughput is the stripe's data bytes (k chunks) per
                second: for an encode, the data that gets its m parity chunks; for a rebuild, the stripe read
                back when 1 or m data chunks are lost (rebuilt from the first k surviving chunks). Allocation is
                the thread's allocated bytes per call over the measured phase.

                """, warmupSeconds, seconds));
        md.append(ErasureCoders.isalUnavailable().map(reason -> "ISA-L was not measured: " + reason + "\n\n").orElse(""));
        md.append("| Layout | Chunk | Operation | ISA-L MB/s | Java MB/s | ISA-L ÷ Java | ISA-L B/call | Java B/call |\n");
        md.append("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n");
        for (Result r : results) {
            Measure isal = r.isal();
            md.append(String.format(Locale.ROOT, "| %d+%d | %s | %s | %s | %,.0f | %s | %s | %.0f |%n", r.k(), r.m(),
                    BenchResult.sizeLabel(r.chunkBytes()).replace("k", " KiB"), r.operation().label,
                    isal == null ? "n/a" : String.format(Locale.ROOT, "%,.0f", isal.dataMBPerSecond()),
                    r.java().dataMBPerSecond(),
                    isal == null ? "n/a" : String.format(Locale.ROOT, "%.1f×", isal.dataMBPerSecond() / r.java().dataMBPerSecond()),
                    isal == null ? "n/a" : String.format(Locale.ROOT, "%.0f", isal.allocatedBytesPerCall()),
                    r.java().allocatedBytesPerCall()));
        }
        return md.toString();
    }

    /** {@code basalt bench --erasure-coding [--seconds N] [--warmup N]}: prints the results and the report's section. */
    static int run(String[] args) {
        int seconds = DEFAULT_SECONDS;
        int warmup = DEFAULT_WARMUP_SECONDS;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--erasure-coding" -> { }
                    case "--seconds" -> seconds = BenchOptions.integer(BenchOptions.value(args, ++i, "--seconds"), "--seconds");
                    case "--warmup" -> warmup = BenchOptions.integer(BenchOptions.value(args, ++i, "--warmup"), "--warmup");
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + " (with --erasure-coding)");
                }
            }
            if (seconds < 1 || warmup < 0) {
                throw new IllegalArgumentException("--seconds must be positive and --warmup not negative");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("basalt bench: " + e.getMessage());
            BenchCommand.usage(System.err);
            return BenchCommand.EXIT_USAGE;
        }
        List<Result> results = measure(seconds, warmup);
        System.out.println();
        System.out.print(markdown(results, seconds, warmup));
        return 0;
    }
}
