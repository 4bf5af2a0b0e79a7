package io.basalt.bench;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code basalt bench} as bin/basalt runs it: its help, a bad option, and a short run against memory. */
class BenchCommandTest {

    @Test
    void helpShowsEveryMode() {
        Outcome help = bench("--help");
        assertEquals(0, help.status());
        for (String mode : new String[]{"--target ADDR:PORT", "--self", "--engine", "--report", "--checkpoint"}) {
            assertTrue(help.out().contains(mode), mode + " in:\n" + help.out());
        }
    }

    @Test
    void aBadOptionIsAUsageMistake() {
        Outcome bad = bench("--self", "--qd", "none");
        assertEquals(BenchCommand.EXIT_USAGE, bad.status());
        assertTrue(bad.err().contains("basalt bench:"), bad.err());
    }

    /** The whole path the tool measures: the in-process target on memory and the built-in host. */
    @Test
    void aShortRunAgainstMemoryCompletesWithoutErrors() {
        Outcome run = bench("--self", "--rw", "randwrite", "--qd", "4", "--seconds", "1", "--warmup", "0", "--size", "4m");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("IOPS") && run.out().contains("target allocated"), run.out());
    }

    private record Outcome(int status, String out, String err) {
    }

    /** Runs the command with the process's standard output and error captured (it prints to both). */
    private static Outcome bench(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int status = new CommandLine(new BenchCommand()).execute(args);
            return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }
}
