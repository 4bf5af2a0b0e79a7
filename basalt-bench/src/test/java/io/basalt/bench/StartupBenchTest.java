package io.basalt.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's start-up rows: a workload in a JVM of its own, its first window and its steady state. */
class StartupBenchTest {

    /** A short run of the child JVM against memory reports both windows (no timing is asserted). */
    @Test
    void aFreshJvmReportsItsFirstWindowAndItsSteadyState() throws Exception {
        BenchOptions options = BenchOptions.parse(new String[]{"--self", "--rw", "randwrite", "--qd", "2",
                "--seconds", "1", "--warmup", "0", "--size", "4m"});
        StartupBench.Result r = StartupBench.measure(options);
        assertNull(r.failure(), r.failure());
        assertTrue(r.firstIops() > 0 && r.steadyIops() > 0, r.toString());
        assertTrue(StartupBench.markdown(java.util.List.of(r)).contains("| 4 KiB randwrite qd 2 | memory | "),
                StartupBench.markdown(java.util.List.of(r)));
    }

    /** The child reads back exactly the run it was given. */
    @Test
    void theChildsArgumentsParseBackToTheSameRun() {
        BenchOptions options = BenchOptions.parse(new String[]{"--memory-drive", "--rw", "write", "--bs", "128k",
                "--qd", "8", "--seconds", "5", "--warmup", "3", "--digest", "--size", "64m"});
        assertTrue(options.equals(BenchOptions.parse(options.selfArguments().toArray(String[]::new))));
    }
}
