package io.basalt.bench;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code basalt bench} as bin/basalt runs it: its help, a bad option, and a short run against memory. */
class BenchCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream originalOut;
    private PrintStream originalErr;

    @BeforeEach
    void capture() {
        originalOut = System.out;
        originalErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(originalOut);
        System.setErr(originalErr);
    }

    @Test
    void helpShowsEveryMode() {
        assertEquals(0, bench("--help"));
        for (String mode : new String[]{"--target ADDR:PORT", "--self", "--engine", "--report", "--checkpoint"}) {
            assertTrue(stdout().contains(mode), mode + " in:\n" + stdout());
        }
    }

    @Test
    void aBadOptionIsAUsageMistake() {
        assertEquals(BenchCommand.EXIT_USAGE, bench("--self", "--qd", "none"));
        assertTrue(stderr().contains("basalt bench:"), stderr());
    }

    /** The whole path the tool measures: the in-process target on memory and the built-in host. */
    @Test
    void aShortRunAgainstMemoryCompletesWithoutErrors() {
        assertEquals(0, bench("--self", "--rw", "randwrite", "--qd", "4", "--seconds", "1", "--warmup", "0",
                "--size", "4m"), stderr());
        assertTrue(stdout().contains("IOPS") && stdout().contains("target allocated"), stdout());
    }

    private int bench(String... args) {
        return new CommandLine(new BenchCommand()).execute(args);
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }
}
