package io.basalt.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code basalt bench --rebuild}'s section from given figures (a real run rebuilds 1.5 GiB, too long for
 * the suite): the rebuild's rates with the host I/O and alone against the configured one, and a workload
 * the rebuild did not last through is said to be so. No timing is measured. Shown failing with the
 * "alone" row given every byte of the rebuild instead of those after the host I/O.
 */
class RebuildBenchTest {
    private static final long MIB = 1 << 20;

    @Test
    void theSectionShowsTheRebuildsRatesAndTheHostIops() throws Exception {
        RebuildBench.Rebuild rebuild = new RebuildBench.Rebuild(64 * MIB, 1536 * MIB, 320 * MIB, 10, 19, 54 * MIB, null);
        List<RebuildBench.Row> rows = List.of(
                new RebuildBench.Row(Workload.RANDREAD, result(Workload.RANDREAD, 40_000), result(Workload.RANDREAD, 30_000),
                        result(Workload.RANDREAD, 20_000), true),
                new RebuildBench.Row(Workload.RANDWRITE, result(Workload.RANDWRITE, 30_000),
                        result(Workload.RANDWRITE, 30_000), result(Workload.RANDWRITE, 27_000), false));
        String md = RebuildBench.markdown(new RebuildBench.Results(rows, rebuild, 5, 2, "1.00, 1.00, 1.00",
                "1.00, 1.00, 1.00"), "bin/basalt bench --rebuild");
        assertTrue(md.startsWith(RebuildBench.SECTION_TITLE + "\n"), md);
        assertTrue(md.contains("| with the host I/O below | 320MiB | 10.0 | 32MiB/s | 50% |"), md);
        assertTrue(md.contains("| alone, after it | 1.2GiB | 19.0 | 64MiB/s | 100% |"), md);
        assertTrue(md.contains("| whole rebuild | 1.5GiB | 29.0 | 53.0MiB/s | 83% |"), md);
        assertTrue(md.lines().anyMatch(l -> l.startsWith("| randread | 40,000 |") && l.contains("| 30,000 |")
                && l.contains("| 20,000 |") && l.endsWith("| 50% |")), md);
        assertTrue(md.lines().anyMatch(l -> l.startsWith("| randwrite |")
                && l.contains("| 27,000 (the rebuild ended before this run did) |") && l.endsWith("| 90% |")), md);
    }

    private static BenchResult result(Workload workload, long iops) {
        BenchOptions options = new BenchOptions("127.0.0.1", 4420, "nqn", 1, BenchOptions.DEFAULT_HOST_NQN, false,
                workload, 4096, 32, 1, 1, 0, false, false, 64 * MIB, false, null, false);
        LatencyHistogram latencies = new LatencyHistogram();
        latencies.record(1_000_000);
        return new BenchResult("basalt", options, iops, 1.0, latencies, 0, null, Double.NaN, Double.NaN);
    }
}
