package io.basalt.attach;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code basalt detach}: the reverse of attach, also for a guest that has stopped since. */
@Command(name = "detach", sortOptions = false,
        description = "Detach a volume from a KVM guest and release this host's connection and ACL entry.",
        footerHeading = "%n", footer = AttachCommand.EXIT_STATUS)
public final class DetachCommand implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
    private boolean help;

    @Mixin
    private GuestOptions guest;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        try {
            guest.attacher(List.of()).detach(guest.domain, guest.volume);
            spec.commandLine().getOut().println("detached volume " + guest.volume + " from domain " + guest.domain);
            return 0;
        } catch (AttachException e) {
            return AttachCommand.failed(spec, "detach", e);
        }
    }
}
