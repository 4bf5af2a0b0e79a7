package io.basalt.attach;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.concurrent.Callable;

/**
 * The attachment tool on its own ({@code attach} and {@code detach}); {@code bin/basalt} offers the
 * same commands among the others. Exit status 0 done, 1 failed, 2 usage.
 */
@Command(name = "basalt", description = "Attach Basalt volumes to running KVM guests.",
        subcommands = {AttachCommand.class, DetachCommand.class})
public final class AttachMain implements Callable<Integer> {
    @CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
    private boolean help;

    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        return new CommandLine(new AttachMain())
                .setOut(new PrintWriter(out, true, Charset.defaultCharset()))
                .setErr(new PrintWriter(err, true, Charset.defaultCharset()))
                .execute(args);
    }

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: attach or detach");
    }
}
