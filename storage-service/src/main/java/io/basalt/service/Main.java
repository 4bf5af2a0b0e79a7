package io.basalt.service;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * The {@code basalt} command as the storage node's own entry point ({@code serve}); the operator's
 * {@code bin/basalt} adds the benchmark tool's, the API client's and the attachment tool's commands
 * to the same definition. Exit status: 0 done, 1 failed, 2 bad command line or configuration.
 */
@Command(name = "basalt", sortOptions = false,
        description = "Basalt: software-defined block storage served over NVMe/TCP.",
        footerHeading = "%n",
        footer = "Exit status: 0 done, 1 failed (the message says why), 2 bad command line. See docs/operations.md.")
public final class Main implements Callable<Integer> {
    static final int EXIT_USAGE = 2;
    private static final int USAGE_WIDTH = 110;

    @CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
    private boolean help;

    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        int status = run(args);
        if (status != 0) {
            System.exit(status);
        }
    }

    static int run(String[] args) {
        return commandLine().execute(args);
    }

    /** The {@code basalt} command with {@code serve}, then {@code more}, then {@code help}. */
    public static CommandLine commandLine(Object... more) {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.addSubcommand("serve", new CommandLine(ServeCommand.spec()));
        for (Object command : more) {
            commandLine.addSubcommand(command);
        }
        commandLine.addSubcommand(new CommandLine.HelpCommand());
        // wide enough for bench's synopsis lines; applies to every subcommand added above (bench is one of more)
        commandLine.setUsageHelpWidth(USAGE_WIDTH);
        return commandLine;
    }

    /** {@code basalt} alone is a usage mistake: it says which commands there are. */
    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }
}
