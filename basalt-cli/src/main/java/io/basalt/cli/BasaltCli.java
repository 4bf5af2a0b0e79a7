package io.basalt.cli;

import io.basalt.attach.AttachCommand;
import io.basalt.attach.DetachCommand;
import io.basalt.bench.BenchCommand;
import io.basalt.service.Main;
import picocli.CommandLine;

/**
 * {@code bin/basalt}: one command-line definition for everything an operator runs, so that every
 * command and subcommand has a {@code --help} generated from what it accepts. The node's own
 * command (serve) comes from the storage service, bench from the benchmark module, attach and detach
 * from the attachment tool, the rest are clients of the volume API.
 *
 * <p>Exit status: 0 done; 1 the node (or libvirt, for attach) refused or could not be reached, and
 * the message says why; 2 a usage mistake, with the command's help.
 */
public final class BasaltCli {
    private BasaltCli() {
    }

    public static void main(String[] args) {
        int status = commandLine().execute(args);
        if (status != 0) {
            System.exit(status);
        }
    }

    static CommandLine commandLine() {
        return Main.commandLine(new BenchCommand(), new AttachCommand(), new DetachCommand(), new VolumeCommand(),
                new SnapshotCommand(), new SnapshotGroupCommand(), new NodeCommand(), new DriveCommand(), new TokenCommand());
    }
}
