package io.basalt.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code basalt bench} as bin/basalt runs it: its help, a bad option, and a short run against memory. */
class BenchCommandTest {

    @Test
    void helpShowsEveryMode() {
        Outcome help = bench("--help");
        assertEquals(0, help.status());
        for (String mode : new String[]{"--target ADDR:PORT", "--self", "--engine", "--report", "--startup", "--checkpoint", "--qos",
                "--scrape-metrics", "--failover", "--transfer-sweep"}) {
            assertTrue(help.out().contains(mode), mode + " in:\n" + help.out());
        }
    }

    @Test
    void aBadOptionIsAUsageMistake() {
        Outcome bad = bench("--self", "--qd", "none");
        assertEquals(BenchCommand.EXIT_USAGE, bad.status());
        assertTrue(bad.err().contains("basalt bench:"), bad.err());
    }

    /** Refused before anything is started: a node would refuse a lease TTL below 2 s only once it starts. */
    @Test
    void aFailoverRunWithALeaseTtlBelowTheSmallestIsAUsageMistake() {
        Outcome bad = bench("--failover", "--lease-ttl", "1");
        assertEquals(BenchCommand.EXIT_USAGE, bad.status());
        assertTrue(bad.err().contains("--lease-ttl must be from 2"), bad.err());
    }

    /**
     * Every write of the transfer sweep has exactly one variant that moves it as the target's defaults
     * do, the base of its ratios: a default changed to a way of moving a write the sweep does not try
     * fails here, and so would two variants that do the same.
     */
    @Test
    void everyWriteOfTheTransferSweepHasOneVariantMovingItAsTheDefaults() {
        TransferSweepBench.Setting defaults = TransferSweepBench.Setting.defaults();
        for (TransferSweepBench.Write w : TransferSweepBench.writes()) {
            assertEquals(1, w.variants().stream().filter(v -> v.sameTransfer(defaults, w.ioSize())).count(), w.toString());
            assertEquals(w.variants().size(), w.variants().stream().map(v -> v.transfer(w.ioSize())).distinct().count(),
                    w.toString());
        }
    }

    /** The whole path the tool measures: the in-process target on memory and the built-in host. */
    @Test
    void aShortRunAgainstMemoryCompletesWithoutErrors() {
        Outcome run = bench("--self", "--rw", "randwrite", "--qd", "4", "--seconds", "1", "--warmup", "0", "--size", "4m");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("IOPS") && run.out().contains("target allocated"), run.out());
    }

    /**
     * The QoS mode, short: a whole node in process, every kind of limit on a volume shared by several
     * connections, and the neighbour runs. No figure may land over its limit by more than 10% (below it
     * may, on a busy machine in one second); the section replaces its previous version in the file and
     * keeps the others. Shown failing with the limits never set (the mode's {@code setQos} call left
     * out): every case far over its limit.
     */
    @Test
    void aShortQosRunKeepsEveryLimitAndWritesItsSection(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("benchmarks.md");
        Files.writeString(file, "# Benchmarks\n\n## Before\n\nkept\n\n" + QosBench.SECTION_TITLE
                + "\n\nan old run\n\n### Accuracy\n\nold figures\n\n## After\n\nkept too\n");
        Outcome run = bench("--qos", "--seconds", "1", "--warmup", "0", "--output", file.toString());
        assertEquals(0, run.status(), run.err());
        String written = Files.readString(file);
        String section = written.substring(written.indexOf(QosBench.SECTION_TITLE), written.indexOf("## After"));
        long rows = section.lines().filter(l -> l.matches("\\| (read|write|total) .*")).count();
        assertEquals(QosBench.CASES.size(), rows, section);
        assertFalse(section.contains("over the limit"), section);
        long rounds = section.lines().filter(l -> l.matches("\\| \\d \\| .*")).count();
        assertEquals(QosBench.ROUNDS, rounds, section);
        assertTrue(written.startsWith("# Benchmarks\n\n## Before\n\nkept\n\n" + QosBench.SECTION_TITLE), written);
        assertTrue(written.endsWith("## After\n\nkept too\n"), written);
        assertFalse(written.contains("old figures"), written);
    }

    /**
     * The scraped engine-vs-memory mode, short: every workload measured on the node's volume and on memory,
     * the node's /metrics scraped during both runs, every scrape answered 200, and the section written.
     * Shown failing with the scraper's token left out (every scrape answered 401, the run exits 1).
     */
    @Test
    void aShortScrapedRunAnswersEveryScrapeAndWritesItsSection(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("benchmarks.md");
        Outcome run = bench("--scrape-metrics", "--seconds", "1", "--warmup", "0", "--output", file.toString());
        assertEquals(0, run.status(), run.err() + run.out());
        String section = Files.readString(file);
        assertTrue(section.startsWith(ScrapeBench.SECTION_TITLE + "\n"), section);
        List<String[]> rows = section.lines().filter(l -> l.startsWith("| 4 KiB "))
                .map(l -> l.split("\\|")).toList();
        assertEquals(4, rows.size(), section);
        for (String[] cells : rows) {
            String[] scrapes = cells[12].strip().split(" \\+ ");
            assertTrue(Integer.parseInt(scrapes[0]) >= 1 && Integer.parseInt(scrapes[1]) >= 1, section);
            assertEquals("0", cells[13].strip(), section);
        }
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
