package io.basalt.service;

import io.basalt.service.bench.BenchCommand;
import io.basalt.service.config.BasaltConfig;
import io.basalt.service.config.ConfigException;
import io.basalt.service.config.ConfigKey;
import io.basalt.service.config.ConfigLoader;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** The {@code basalt} command. Exit status: 0 done, 1 could not start, 2 bad command line or configuration. */
public final class Main {
    static final int EXIT_STARTUP_FAILED = 1;
    static final int EXIT_USAGE = 2;

    private Main() {
    }

    public static void main(String[] args) {
        int status = run(args);
        if (status != 0) {
            System.exit(status);
        }
    }

    static int run(String[] args) {
        if (args.length == 0) {
            usage(System.err);
            return EXIT_USAGE;
        }
        List<String> options = Arrays.asList(args).subList(1, args.length);
        return switch (args[0]) {
            case "serve" -> options.contains("--help") ? usage(System.out) : serve(options);
            case "bench" -> BenchCommand.run(options.toArray(String[]::new));
            case "help", "--help", "-h" -> usage(System.out);
            default -> {
                System.err.println("basalt: unknown command '" + args[0] + "'");
                usage(System.err);
                yield EXIT_USAGE;
            }
        };
    }

    /** Runs until the JVM is asked to stop (SIGTERM, SIGINT), then shuts the node down cleanly. */
    private static int serve(List<String> options) {
        BasaltConfig config;
        try {
            config = ConfigLoader.load(options, System.getenv());
        } catch (ConfigException e) {
            System.err.println("basalt: configuration error: " + e.getMessage());
            return EXIT_USAGE;
        }
        StorageNode node;
        try {
            node = StorageNode.start(config);
        } catch (StartupException e) {
            System.err.println("basalt: cannot start: " + e.getMessage());
            return EXIT_STARTUP_FAILED;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            stopped.countDown();
        }, "basalt-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static int usage(PrintStream out) {
        out.println("""
                Usage: basalt <command> [options]

                Commands:
                  serve   run a storage node: NVMe/TCP target, volume API and Prometheus metrics
                  bench   measure an NVMe/TCP target with the built-in host (bench --help for options)
                  help    show this message

                Options of serve:
                  --data-dir DIR     the data directory (same as --data.dir=DIR)
                  --config FILE      a properties file of configuration keys
                  --KEY=VALUE        set a configuration key, e.g. --nvme.port=4420

                Configuration keys (command line > BASALT_* environment > --config file > default):""");
        for (ConfigKey key : ConfigKey.values()) {
            out.printf("  %-26s %-36s %s%n", key.key(), key.environmentVariable(),
                    key.defaultValue() == null ? "(default: nvme.bind)" : "(default: " + key.defaultValue() + ")");
        }
        out.println("\nSee docs/operations.md for details.");
        return 0;
    }
}
