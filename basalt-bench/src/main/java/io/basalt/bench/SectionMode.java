package io.basalt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A mode that measures for {@code --seconds} after {@code --warmup} and prints one section of
 * docs/benchmarks.md, which {@code --output FILE} puts into FILE in place of its previous version.
 */
final class SectionMode {
    interface Measurement<R> {
        R measure(int seconds, int warmUpSeconds) throws Exception;
    }

    interface Section<R> {
        String markdown(R results, String command) throws IOException;
    }

    private SectionMode() {
    }

    /**
     * @param args  {@code mode [--seconds N] [--warmup N] [--output FILE]}
     * @param title the section's heading, by which {@code --output} finds its previous version
     */
    static <R> int run(String[] args, String mode, String title, int defaultSeconds, int defaultWarmUp,
                       Measurement<R> measurement, Section<R> section, Predicate<R> failed) {
        int seconds = defaultSeconds;
        int warmUp = defaultWarmUp;
        Path output = null;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--seconds" -> seconds = BenchOptions.integer(BenchOptions.value(args, ++i, "--seconds"), "--seconds");
                    case "--warmup" -> warmUp = BenchOptions.integer(BenchOptions.value(args, ++i, "--warmup"), "--warmup");
                    case "--output" -> output = Path.of(BenchOptions.value(args, ++i, "--output"));
                    default -> {
                        if (!args[i].equals(mode)) {
                            throw new IllegalArgumentException("unknown option " + args[i] + " (with " + mode + ")");
                        }
                    }
                }
            }
            if (seconds < 1 || warmUp < 0) {
                throw new IllegalArgumentException("--seconds must be positive and --warmup not negative");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("basalt bench: " + e.getMessage());
            BenchCommand.usage(System.err);
            return BenchCommand.EXIT_USAGE;
        }
        try {
            R results = measurement.measure(seconds, warmUp);
            String text = section.markdown(results, "bin/basalt bench " + String.join(" ", args));
            printSection(text, output, title);
            return failed.test(results) ? BenchCommand.EXIT_FAILED : 0;
        } catch (Exception e) {
            System.err.println("basalt bench: " + BenchCommand.describe(e));
            return BenchCommand.EXIT_FAILED;
        }
    }

    /** Prints a mode's section and, with {@code --output FILE} ({@code output} not null), puts it into FILE. */
    static void printSection(String text, Path output, String title) throws IOException {
        System.out.println();
        System.out.print(text);
        if (output != null) {
            writeSection(output, title, text);
            System.out.println("Wrote " + output);
        }
    }

    /**
     * A section's record of its run: the command, the machine, the date and the load average at the
     * start and the end, said to be loaded when it was above the CPU count (figures swing with it).
     */
    static String runLines(String command, String loadAtStart, String loadAtEnd) throws IOException {
        return "- Command: `" + command + "`\n" + BenchReport.machineLines()
                + "- Date: " + LocalDate.now(ZoneOffset.UTC) + "\n"
                + "- Load average (1, 5, 15 min): at the start " + loadAtStart + ", at the end " + loadAtEnd
                + (QosBench.loaded(loadAtStart) || QosBench.loaded(loadAtEnd)
                        ? " — **the machine was loaded** by other work (above 2 on its "
                        + Runtime.getRuntime().availableProcessors() + " CPUs): figures swing with it" : "")
                + "\n\n";
    }

    /**
     * Puts {@code section} into {@code file} in place of the section with the same title (up to the next
     * second-level heading), or at its end when it has none; the rest of the file is kept as it is.
     */
    static void writeSection(Path file, String title, String section) throws IOException {
        Files.writeString(file, withSection(Files.exists(file) ? Files.readString(file) : "", title, section));
    }

    /**
     * Writes a report of several sections into {@code file} without losing what others wrote there: the
     * report's header (everything before its first second-level heading) replaces the file's, each of
     * its sections replaces the file's section of the same title (or is appended), a section titled in
     * {@code owned} that the report no longer has (an "Errors" section of an earlier run) is removed,
     * and every other section (hand-written, or written by another mode) is kept where it is.
     */
    static void writeReport(Path file, String report, List<String> owned) throws IOException {
        if (!Files.exists(file)) {
            Files.writeString(file, report);
            return;
        }
        String text = Files.readString(file);
        int fileSections = firstSection(text);
        int reportSections = firstSection(report);
        text = report.substring(0, reportSections) + text.substring(fileSections);
        Set<String> written = new HashSet<>();
        for (int start = reportSections; start < report.length(); ) {
            int next = report.indexOf("\n## ", start);
            int end = next < 0 ? report.length() : next + 1;
            String section = report.substring(start, end);
            String title = section.substring(0, section.indexOf('\n'));
            text = withSection(text, title, next < 0 ? section : section.substring(0, section.length() - 1));
            written.add(title);
            start = end;
        }
        for (String title : owned) {
            if (!written.contains(title)) {
                text = withoutSection(text, title);
            }
        }
        Files.writeString(file, text);
    }

    /** Where the first second-level heading starts, or the text's length when it has none. */
    private static int firstSection(String text) {
        if (text.startsWith("## ")) {
            return 0;
        }
        int at = text.indexOf("\n## ");
        return at < 0 ? text.length() : at + 1;
    }

    private static String withSection(String text, String title, String section) {
        int start = sectionStart(text, title);
        if (start < 0) {
            return text.isEmpty() || text.endsWith("\n\n") ? text + section
                    : text + (text.endsWith("\n") ? "\n" : "\n\n") + section;
        }
        int next = text.indexOf("\n## ", start + title.length());
        return text.substring(0, start) + section + (next < 0 ? "" : "\n" + text.substring(next + 1));
    }

    private static String withoutSection(String text, String title) {
        int start = sectionStart(text, title);
        if (start < 0) {
            return text;
        }
        int next = text.indexOf("\n## ", start + title.length());
        String before = text.substring(0, start);
        return next < 0 ? before.stripTrailing() + "\n" : before + text.substring(next + 1);
    }

    /** Where the section with this exact heading line starts, or -1. */
    private static int sectionStart(String text, String title) {
        if (text.startsWith(title + "\n")) {
            return 0;
        }
        int at = text.indexOf("\n" + title + "\n");
        return at < 0 ? -1 : at + 1;
    }
}
