package io.basalt.service;

import io.basalt.service.config.BasaltConfig;
import io.basalt.service.config.ConfigException;
import io.basalt.service.config.ConfigKey;
import io.basalt.service.config.ConfigLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code basalt serve}: its options are the configuration keys themselves, so that {@code --help}
 * cannot drift from what {@link ConfigLoader} accepts.
 */
@Command(name = "serve", sortOptions = false,
        description = "Run a storage node: NVMe/TCP target, volume API and Prometheus metrics.",
        customSynopsis = "basalt serve [--data-dir DIR] [--config FILE] [--KEY=VALUE]...",
        footerHeading = "%n",
        footer = {"Each key can also be set in the environment (BASALT_ and the key in upper case, dots and dashes",
                "as underscores: BASALT_NVME_PORT) or in the --config file; the command line wins, then the",
                "environment, then the file, then the default. Exit status: 0 stopped by a signal, 1 could not",
                "start, 2 bad command line or configuration. See docs/operations.md."})
public final class ServeCommand implements Callable<Integer> {
    static final int EXIT_STARTUP_FAILED = 1;
    static final int EXIT_USAGE = 2;

    @CommandLine.Option(names = "--data-dir", paramLabel = "DIR", description = "the data directory (same as --data.dir=DIR)")
    private String dataDir;

    @CommandLine.Option(names = "--config", paramLabel = "FILE", description = "a properties file of configuration keys")
    private String configFile;

    @CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
    private boolean help;

    @Spec
    private CommandSpec spec;

    /** The command with one {@code --KEY=VALUE} option per configuration key. */
    public static CommandSpec spec() {
        CommandSpec spec = CommandSpec.forAnnotatedObject(new ServeCommand());
        for (ConfigKey key : ConfigKey.values()) {
            spec.addOption(OptionSpec.builder("--" + key.key())
                    .paramLabel("VALUE")
                    .type(String.class)
                    .description(key.description() + " [" + key.environmentVariable() + "; default: "
                            + key.defaultForHumans() + "]")
                    .build());
        }
        return spec;
    }

    /** Runs until the JVM is asked to stop (SIGTERM, SIGINT), then shuts the node down cleanly. */
    @Override
    public Integer call() {
        BasaltConfig config;
        try {
            config = ConfigLoader.load(configLoaderArguments(), System.getenv());
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

    /** The options given, in the {@code --key=value} form ConfigLoader reads, in command-line order. */
    private List<String> configLoaderArguments() {
        List<String> args = new ArrayList<>();
        for (OptionSpec option : spec.commandLine().getParseResult().matchedOptions()) {
            if (option.usageHelp()) {
                continue;
            }
            args.add(option.longestName() + "=" + option.getValue());
        }
        return args;
    }
}
