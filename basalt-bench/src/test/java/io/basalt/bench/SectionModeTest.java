package io.basalt.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How the report and the single-section modes put their text into docs/benchmarks.md. */
class SectionModeTest {

    /**
     * The report replaces the header and its own sections, drops its "Errors" section of an earlier run,
     * appends a section new to the file, and keeps every section it does not own where it was. Shown
     * failing with {@code --report} writing the whole file as before (the hand-written sections lost).
     */
    @Test
    void theReportRewritesOnlyItsOwnSections(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("benchmarks.md");
        Files.writeString(file, """
                # Benchmarks

                Old header, 2026-11-24.

                ## Hand-written spot measurements

                kept

                ## NVMe/TCP against the loopback ceiling

                old matrix

                ## QoS: accuracy and isolation

                old qos

                ### Accuracy

                old accuracy

                ## Errors

                - an old failure

                ## Scraped by another mode

                kept too
                """);
        String report = """
                # Benchmarks

                New header.

                ## NVMe/TCP against the loopback ceiling

                new matrix

                ## Start-up

                new start-up

                ## QoS: accuracy and isolation

                new qos

                ### Accuracy

                new accuracy
                """;
        SectionMode.writeReport(file, report, List.of("## NVMe/TCP against the loopback ceiling", "## Start-up",
                "## QoS: accuracy and isolation", "## Errors"));
        assertEquals("""
                # Benchmarks

                New header.

                ## Hand-written spot measurements

                kept

                ## NVMe/TCP against the loopback ceiling

                new matrix

                ## QoS: accuracy and isolation

                new qos

                ### Accuracy

                new accuracy

                ## Scraped by another mode

                kept too

                ## Start-up

                new start-up
                """, Files.readString(file));
    }

    /** A first report into a file that does not exist yet is the report as it is. */
    @Test
    void aFirstReportIsWrittenWhole(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("benchmarks.md");
        String report = "# Benchmarks\n\nheader\n\n## A\n\na\n";
        SectionMode.writeReport(file, report, List.of("## A"));
        assertEquals(report, Files.readString(file));
    }

    /** The last section of the file, when the report dropped it, goes with the blank line before it. */
    @Test
    void anOwnedLastSectionTheReportNoLongerHasIsRemoved(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("benchmarks.md");
        Files.writeString(file, "# Benchmarks\n\nold\n\n## A\n\nold a\n\n## Errors\n\n- failed\n");
        SectionMode.writeReport(file, "# Benchmarks\n\nnew\n\n## A\n\nnew a\n", List.of("## A", "## Errors"));
        assertEquals("# Benchmarks\n\nnew\n\n## A\n\nnew a\n", Files.readString(file));
    }
}
