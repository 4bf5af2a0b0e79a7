package io.basalt.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Start-up warm-up: how fast the data path runs in the first seconds of a fresh JVM, before the JIT
 * has compiled it, against the same JVM once warm. Each workload runs in a JVM of its own (this
 * class's {@link #main}, started with the parent's class path): first the in-process target is
 * started and measured at once for {@code --seconds} with no warm-up (its namespace is filled straight
 * through the device, not over NVMe/TCP, so the protocol path is still cold), then a fresh target in
 * the same JVM after the usual {@code --warmup}: the steady state.
 */
final class StartupBench {
    /** Prefix of the child's one result line: first-window IOPS, steady IOPS. */
    private static final String RESULT = "startup-result ";
    static final String SECTION_TITLE = "## Start-up: the first seconds of a fresh JVM against steady state";
    /** The aim of issue 13: 80% of steady-state IOPS within 5 s of start. */
    static final double AIM = 0.8;
    /** Longest a child may run before it is taken for stuck. */
    private static final long CHILD_TIMEOUT_SECONDS = 300;

    /** One workload: IOPS in the first window after start and in steady state, both in the same child JVM. */
    record Result(BenchOptions options, double firstIops, double steadyIops, String failure) {
        double ratio() {
            return firstIops / steadyIops;
        }
    }

    private StartupBench() {
    }

    /** The child: bench options of a {@code --self} run; prints one {@link #RESULT} line. */
    public static void main(String[] args) throws Exception {
        BenchOptions options = BenchOptions.parse(args);
        BenchResult first = Benchmark.run(options.warmedUpFor(0));
        BenchResult steady = Benchmark.run(options);
        if (first.errors() + steady.errors() > 0) {
            System.out.println(first.summary());
            System.out.println(steady.summary());
            System.exit(BenchCommand.EXIT_FAILED);
        }
        System.out.println(RESULT + first.iops() + " " + steady.iops());
        System.exit(0);
    }

    /** {@code --startup} and the options of a {@code --self} run: measures it and prints the one row. */
    static int run(String[] args, PrintStream err) {
        BenchOptions options;
        try {
            options = BenchOptions.parse(Arrays.stream(args).filter(a -> !a.equals("--startup"))
                    .toArray(String[]::new));
            if (!options.self()) {
                throw new IllegalArgumentException("--startup measures the in-process target: add --self or --engine");
            }
        } catch (IllegalArgumentException e) {
            err.println("basalt bench: " + e.getMessage());
            BenchCommand.usage(err);
            return BenchCommand.EXIT_USAGE;
        }
        try {
            Result r = measure(options);
            System.out.print(markdown(List.of(r)));
            return r.failure() == null ? 0 : BenchCommand.EXIT_FAILED;
        } catch (IOException e) {
            err.println("basalt bench: " + BenchCommand.describe(e));
            return BenchCommand.EXIT_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return BenchCommand.EXIT_FAILED;
        }
    }

    /**
     * Runs {@code options}' workload in a fresh JVM; a child that fails gives a result with its
     * failure rather than losing the report.
     */
    static Result measure(BenchOptions options) throws IOException, InterruptedException {
        List<String> command = childJvm();
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), StartupBench.class.getName()));
        command.addAll(options.selfArguments());
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> output = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                output.add(line);
            }
        } finally {
            if (!child.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
        for (String line : output) {
            if (line.startsWith(RESULT)) {
                String[] iops = line.substring(RESULT.length()).split(" ");
                return new Result(options, Double.parseDouble(iops[0]), Double.parseDouble(iops[1]), null);
            }
        }
        return new Result(options, Double.NaN, Double.NaN, "the child JVM exited " + child.exitValue() + ": "
                + String.join(" / ", output.subList(Math.max(0, output.size() - 3), output.size())));
    }

    /**
     * The command that starts a JVM like this one: its {@code java}, and its options (bin/basalt's
     * flags) but no recording, agent or AOT cache of its own; the caller adds class path and main class.
     */
    static List<String> childJvm() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!option.startsWith("-XX:StartFlightRecording") && !option.startsWith("-XX:AOT")
                    && !option.startsWith("-agent") && !option.startsWith("-javaagent")) {
                command.add(option);
            }
        }
        return command;
    }

    /** The report's section. */
    static String markdown(List<Result> results) {
        StringBuilder md = new StringBuilder();
        md.append(SECTION_TITLE).append("\n\n");
        md.append(String.format(Locale.ROOT, """
                How fast the data path is right after a start, before the JIT has compiled it (aim: %.0f%% of
                steady-state IOPS within 5 s of start). Each workload runs in a JVM of its own, started for it
                with the same options and class path (`StartupBench`): the in-process target (the storage engine
                on its default drive file, or memory) is started, its namespace filled straight through the
                device (not over NVMe/TCP: the protocol path is still cold), and the first window is measured from
                the first I/O on, with no warm-up. Then, in the same JVM, a fresh target is measured after the
                usual warm-up: the steady state. This is the target in a JVM of its own, not a whole node
                started by `bin/basalt serve` (*Start-up* above measures that by hand).

                """, 100 * AIM));
        md.append("| Workload | Target | First window IOPS | Steady IOPS | First ÷ steady | Aim |\n");
        md.append("| --- | --- | ---: | ---: | ---: | --- |\n");
        for (Result r : results) {
            BenchOptions o = r.options();
            String target = o.engine() ? (o.memoryDrive() ? "engine, memory drive" : "engine, drive file") : "memory";
            if (r.failure() != null) {
                md.append(String.format(Locale.ROOT, "| %s | %s | failed: %s ||||%n", BenchReport.label(o), target,
                        r.failure().replace('|', '/')));
                continue;
            }
            md.append(String.format(Locale.ROOT, "| %s | %s | %,.0f (%d s) | %,.0f (%d s after %d s) | %.0f%% | %s %.0f%% |%n",
                    BenchReport.label(o), target, r.firstIops(), o.seconds(), r.steadyIops(), o.seconds(),
                    o.warmUpSeconds(), 100 * r.ratio(), r.ratio() >= AIM ? "met, ≥" : "**missed**, ≥", 100 * AIM));
        }
        return md.toString();
    }
}
