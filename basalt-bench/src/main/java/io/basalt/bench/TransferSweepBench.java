package io.basalt.bench;

import io.basalt.nvmetcp.nvmet.TargetOptions;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench --transfer-sweep}: writes of 4 KiB to MDTS through NVMe/TCP at queue depth 1 and 32
 * against in-process targets that differ only in how write data travels, set by the in-capsule data
 * size (IOCCSZ) and MAXH2CDATA: inside the command capsule, or after an R2T in H2CData PDUs of at most
 * MAXH2CDATA. Every target serves the same namespace (a storage-engine volume on a drive in memory, or
 * with {@code --memory-namespace} plain memory) on the same event loops. The built-in host sends a
 * write in the capsule when it fits the target's IOCCSZ, as Linux's does, and cuts its H2CData to
 * MAXH2CDATA.
 *
 * <p>Settings that move a write the same way (a 4 KiB write travels in the capsule with any IOCCSZ
 * from 4 KiB up) are one variant, run once. The machine is shared, so the variants of one write run
 * back to back, each round starting with the next one, after a warm-up round that is not counted; each
 * variant's IOPS is compared with the variant the target's defaults take in the same round, and the
 * table gives the medians over the rounds of those paired ratios.
 */
final class TransferSweepBench {
    static final String SECTION_TITLE = "## NVMe/TCP transfer settings: in-capsule size and MAXH2CDATA";
    private static final int KIB = 1024;
    private static final long WORKING_SET = 256L << 20;
    /**
     * The memory drive: small enough for the JVM's direct memory, so that the engine reclaims space as it
     * would on a full drive rather than writing gigabytes of log into fresh memory.
     */
    private static final long DRIVE_BYTES = 2L << 30;
    private static final int DEFAULT_ROUNDS = 5;
    private static final int[] DEPTHS = {1, 32};
    /** Writes that may travel in the capsule or after an R2T in one H2CData PDU. */
    private static final int[] SMALL_WRITES = {4 * KIB, 16 * KIB, 32 * KIB};
    /** The largest in-capsule data size a target allows, and the largest write tried in the capsule. */
    private static final int IN_CAPSULE_LIMIT = 128 * KIB;
    /** The MAXH2CDATA values compared for the writes that need an R2T of more than one H2CData PDU. */
    private static final int[] MAX_H2C_DATA = {32 * KIB, 128 * KIB, 1024 * KIB};

    /** The target's settings for one variant: IOCCSZ's data bytes and MAXH2CDATA. */
    record Setting(int inCapsule, int maxH2CData) {
        static Setting defaults() {
            TargetOptions d = TargetOptions.defaults(SelfTarget.SERIAL);
            return new Setting(d.inCapsuleDataSize(), d.maxH2CData());
        }

        TargetOptions options() {
            TargetOptions d = TargetOptions.defaults(SelfTarget.SERIAL);
            return new TargetOptions(d.maxIoQueues(), d.maxQueueSize(), inCapsule, maxH2CData, d.maxTransferSize(),
                    d.serial(), d.limits());
        }

        /** How a write of {@code bytes} travels with these settings. */
        String transfer(int bytes) {
            if (bytes <= inCapsule) {
                return "in the capsule";
            }
            int pdus = (bytes + maxH2CData - 1) / maxH2CData;
            return "R2T, " + pdus + " H2CData of " + size(Math.min(bytes, maxH2CData));
        }

        /** Whether a write of {@code bytes} travels the same way with {@code other}. */
        boolean sameTransfer(Setting other, int bytes) {
            return transfer(bytes).equals(other.transfer(bytes));
        }

        String label() {
            return "in-capsule " + size(inCapsule) + ", MAXH2CDATA " + size(maxH2CData);
        }
    }

    /** A write of {@code ioSize} bytes at queue depth {@code depth}, and the variants it is run against. */
    record Write(int ioSize, int depth, List<Setting> variants) {
        /** The variant that moves this write as the target's defaults do. */
        int defaultVariant() {
            Setting d = Setting.defaults();
            for (int i = 0; i < variants.size(); i++) {
                if (variants.get(i).sameTransfer(d, ioSize)) {
                    return i;
                }
            }
            throw new IllegalStateException("no variant of " + this + " moves it as the defaults " + d + " do");
        }
    }

    /** What the rounds measured of one write's variant, and its ratio to the default's in each round. */
    record Row(Write write, Setting setting, List<BenchResult> rounds, double[] ratios) {
        double medianIops() {
            return QosBench.median(rounds.stream().mapToDouble(BenchResult::iops).toArray());
        }

        double medianRatio() {
            return QosBench.median(ratios);
        }

        double medianCpuMicrosPerIo() {
            return QosBench.median(rounds.stream().mapToDouble(BenchResult::cpuMicrosPerIo).toArray());
        }

        long errors() {
            return rounds.stream().mapToLong(BenchResult::errors).sum();
        }
    }

    record Results(List<Row> rows, boolean memoryNamespace, int rounds, int seconds, int warmUp, String loadAtStart,
                   String loadAtEnd) {
        boolean failed() {
            return rows.stream().anyMatch(r -> r.errors() > 0);
        }
    }

    private TransferSweepBench() {
    }

    /** {@code --transfer-sweep [--rounds N] [--seconds N] [--warmup N] [--memory-namespace] [--output FILE]}. */
    static int run(String[] args) {
        int rounds = DEFAULT_ROUNDS;
        int seconds = 2;
        int warmUp = 1;
        boolean memoryNamespace = false;
        Path output = null;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--transfer-sweep" -> { }
                    case "--rounds" -> rounds = BenchOptions.integer(BenchOptions.value(args, ++i, "--rounds"), "--rounds");
                    case "--seconds" -> seconds = BenchOptions.integer(BenchOptions.value(args, ++i, "--seconds"), "--seconds");
                    case "--warmup" -> warmUp = BenchOptions.integer(BenchOptions.value(args, ++i, "--warmup"), "--warmup");
                    case "--memory-namespace" -> memoryNamespace = true;
                    case "--output" -> output = Path.of(BenchOptions.value(args, ++i, "--output"));
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + " (with --transfer-sweep)");
                }
            }
            if (rounds < 1 || seconds < 1 || warmUp < 0) {
                throw new IllegalArgumentException("--rounds and --seconds must be positive and --warmup not negative");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("basalt bench: " + e.getMessage());
            BenchCommand.usage(System.err);
            return BenchCommand.EXIT_USAGE;
        }
        try {
            Results results = measure(memoryNamespace, rounds, seconds, warmUp);
            SectionMode.printSection(markdown(results, "bin/basalt bench " + String.join(" ", args)), output,
                    SECTION_TITLE);
            return results.failed() ? BenchCommand.EXIT_FAILED : 0;
        } catch (Exception e) {
            System.err.println("basalt bench: " + BenchCommand.describe(e));
            return BenchCommand.EXIT_FAILED;
        }
    }

    /**
     * Per write, one variant per way its data can travel: small writes in the capsule or after an R2T;
     * 128 KiB in the capsule or after an R2T in H2CData of 32 or 128 KiB; 1 MiB (MDTS) in H2CData of 32
     * KiB, 128 KiB or 1 MiB.
     */
    static List<Write> writes() {
        List<Write> writes = new ArrayList<>();
        for (int depth : DEPTHS) {
            for (int bs : SMALL_WRITES) {
                writes.add(new Write(bs, depth, List.of(new Setting(bs, 128 * KIB), new Setting(0, 128 * KIB))));
            }
            int maxTransfer = TargetOptions.defaults(SelfTarget.SERIAL).maxTransferSize();
            for (int bs : new int[] {IN_CAPSULE_LIMIT, maxTransfer}) {
                List<Setting> variants = new ArrayList<>();
                if (bs <= IN_CAPSULE_LIMIT) {
                    variants.add(new Setting(bs, 128 * KIB));
                }
                for (int m : MAX_H2C_DATA) {
                    Setting s = new Setting(0, m);
                    if (variants.stream().noneMatch(v -> v.sameTransfer(s, bs))) {
                        variants.add(s);
                    }
                }
                writes.add(new Write(bs, depth, variants));
            }
        }
        return writes;
    }

    private static Results measure(boolean memoryNamespace, int rounds, int seconds, int warmUp) throws Exception {
        String loadAtStart = BenchReport.loadAverage();
        List<Write> writes = writes();
        List<List<List<BenchResult>>> results = new ArrayList<>();
        for (Write w : writes) {
            List<List<BenchResult>> byVariant = new ArrayList<>();
            w.variants().forEach(v -> byVariant.add(new ArrayList<>()));
            results.add(byVariant);
        }
        try (SelfTarget self = new SelfTarget(WORKING_SET, BenchOptions.DEFAULT_HOST_NQN, !memoryNamespace, null,
                !memoryNamespace, DRIVE_BYTES)) {
            for (int round = 0; round <= rounds; round++) {
                System.out.println(round == 0 ? "warm-up round (not counted)"
                        : "round " + round + " of " + rounds + ", load average " + BenchReport.loadAverage());
                for (int i = 0; i < writes.size(); i++) {
                    Write w = writes.get(i);
                    int n = w.variants().size();
                    for (int k = 0; k < n; k++) {
                        int at = (k + round) % n; // each round starts with the next variant
                        Setting v = w.variants().get(at);
                        BenchResult r = round == 0 ? run(self, w, v, memoryNamespace, 1, 0)
                                : run(self, w, v, memoryNamespace, seconds, warmUp);
                        System.out.println(String.format(Locale.ROOT, "%-40s %s", v.label(), r.summary()));
                        if (round > 0) {
                            results.get(i).get(at).add(r);
                        }
                    }
                }
            }
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < writes.size(); i++) {
            Write w = writes.get(i);
            List<BenchResult> base = results.get(i).get(w.defaultVariant());
            for (int k = 0; k < w.variants().size(); k++) {
                List<BenchResult> mine = results.get(i).get(k);
                double[] ratios = new double[rounds];
                for (int round = 0; round < rounds; round++) {
                    ratios[round] = mine.get(round).iops() / base.get(round).iops();
                }
                rows.add(new Row(w, w.variants().get(k), mine, ratios));
            }
        }
        return new Results(rows, memoryNamespace, rounds, seconds, warmUp, loadAtStart, BenchReport.loadAverage());
    }

    private static BenchResult run(SelfTarget self, Write w, Setting s, boolean memoryNamespace, int seconds, int warmUp)
            throws Exception {
        BenchOptions o = new BenchOptions(null, 0, null, SelfTarget.NSID, BenchOptions.DEFAULT_HOST_NQN, true,
                Workload.RANDWRITE, w.ioSize(), w.depth(), 1, seconds, warmUp, false, false, WORKING_SET,
                !memoryNamespace, null, !memoryNamespace);
        try (SelfTarget.Served target = self.serve(s.options())) {
            return Benchmark.runNvme(o, "127.0.0.1", target.port(), SelfTarget.NQN, SelfTarget.NSID);
        }
    }

    private static String markdown(Results r, String command) throws IOException {
        Setting d = Setting.defaults();
        StringBuilder md = new StringBuilder();
        md.append(SECTION_TITLE).append("\n\n");
        md.append(String.format(Locale.ROOT, """
                Written by `bin/basalt bench --transfer-sweep` (`--output docs/benchmarks.md` replaces this
                section only): random writes over %d MiB of %s through NVMe/TCP on loopback, one connection,
                Basalt's host (in the capsule when the write fits IOCCSZ, else after an R2T in H2CData PDUs of
                at most MAXH2CDATA, as Linux's host does), against in-process targets that differ only in the
                setting named. Settings that move a write the same way are one variant. The variants of one
                write ran back to back, each round starting with the next one, after a warm-up round not
                counted; %d rounds of %d s after %d s of warm-up each. "Of default" is the median over the
                rounds of the variant's IOPS over the IOPS, in the same round, of the variant the target's
                defaults (%s) take; IOPS and the target's CPU time per write (its event loops and, on
                the engine, the log writer) are medians over the rounds.

                """, WORKING_SET >> 20, r.memoryNamespace() ? "a memory namespace"
                        : "a storage-engine volume on a drive in memory (`engine.drives=memory:SIZE`)",
                r.rounds(), r.seconds(), r.warmUp(), d.label()));
        md.append(SectionMode.runLines(command, r.loadAtStart(), r.loadAtEnd()));
        md.append("| Write | QD | Data travels | Target setting | IOPS | Of default | Of default, each round "
                + "| Target CPU µs/IO | Failed |\n");
        md.append("| ---: | ---: | --- | --- | ---: | ---: | --- | ---: | ---: |\n");
        for (Row row : r.rows()) {
            Write w = row.write();
            String each = String.join(", ", Arrays.stream(row.ratios())
                    .mapToObj(x -> String.format(Locale.ROOT, "%.2f", x)).toList());
            md.append(String.format(Locale.ROOT, "| %s | %d | %s%s | %s | %,.0f | %.2f | %s | %.1f | %d |%n",
                    size(w.ioSize()), w.depth(), row.setting().transfer(w.ioSize()),
                    row.setting().sameTransfer(d, w.ioSize()) ? " (default)" : "", row.setting().label(),
                    row.medianIops(), row.medianRatio(), each, row.medianCpuMicrosPerIo(), row.errors()));
        }
        md.append("\n");
        return md.toString();
    }

    static String size(int bytes) {
        return bytes == 0 ? "0" : bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : bytes / KIB + " KiB";
    }
}
