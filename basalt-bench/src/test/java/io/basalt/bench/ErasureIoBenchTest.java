package io.basalt.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code basalt bench --erasure-coded-io}, short: the node without erasure coding, at 4+2 and at 4+2 with
 * a drive file missing all serve their volume without an I/O error (the mode exits 1 on any), and the
 * section has a row per workload, the reads with a degraded figure. No timing is checked.
 */
class ErasureIoBenchTest {
    @Test
    void aShortRunMeasuresEveryWorkloadHealthyAndDegraded(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("benchmarks.md");
        int status = new CommandLine(new BenchCommand()).execute("--erasure-coded-io", "--seconds", "1", "--warmup",
                "0", "--output", file.toString());
        assertEquals(0, status);
        String section = Files.readString(file);
        assertTrue(section.startsWith(ErasureIoBench.SECTION_TITLE + "\n"), section);
        List<String[]> rows = section.lines().filter(l -> l.matches("\\| \\d+ KiB .*")).map(l -> l.split("\\|"))
                .toList();
        assertEquals(4, rows.size(), section);
        for (String[] cells : rows) {
            boolean read = cells[1].contains("read");
            assertEquals(read, !cells[8].isBlank(), "a degraded figure for reads only: " + section);
        }
    }
}
