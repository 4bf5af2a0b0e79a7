package io.basalt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
            System.out.println();
            System.out.print(text);
            if (output != null) {
                writeSection(output, title, text);
                System.out.println("Wrote " + output);
            }
            return failed.test(results) ? BenchCommand.EXIT_FAILED : 0;
        } catch (Exception e) {
            System.err.println("basalt bench: " + BenchCommand.describe(e));
            return BenchCommand.EXIT_FAILED;
        }
    }

    /**
     * Puts {@code section} into {@code file} in place of the section with the same title (up to the next
     * second-level heading), or at its end when it has none; the rest of the file is kept as it is.
     */
    static void writeSection(Path file, String title, String section) throws IOException {
        String text = Files.exists(file) ? Files.readString(file) : "";
        int start = text.startsWith(title + "\n") ? 0 : text.indexOf("\n" + title + "\n");
        String updated;
        if (start < 0) {
            updated = text.isEmpty() || text.endsWith("\n\n") ? text + section
                    : text + (text.endsWith("\n") ? "\n" : "\n\n") + section;
        } else {
            int from = start == 0 ? 0 : start + 1;
            int next = text.indexOf("\n## ", from + title.length());
            updated = text.substring(0, from) + section + (next < 0 ? "" : "\n" + text.substring(next + 1));
        }
        Files.writeString(file, updated);
    }
}
