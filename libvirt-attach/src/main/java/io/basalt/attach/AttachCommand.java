package io.basalt.attach;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code basalt attach}: hot-attaches a volume to a running KVM guest. */
@Command(name = "attach", sortOptions = false,
        description = "Attach a volume to a running KVM guest through libvirt (docs/libvirt-attach.md).",
        footerHeading = "%n", footer = AttachCommand.EXIT_STATUS)
public final class AttachCommand implements Callable<Integer> {
    static final String EXIT_STATUS = "Exit status: 0 done, 1 failed (the message says why; nothing is left behind), 2 bad command line.";
    static final int EXIT_FAILED = 1;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
    private boolean help;

    @Mixin
    private GuestOptions guest;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "kernel", converter = ModeConverter.class,
            description = "kernel: the host's nvme-tcp driver, the guest gets a block device (default);"
                    + " userspace: a bridge process serves the guest's disk over NBD, no kernel module needed")
    private AttachMode mode;

    @Option(names = "--dhchap-secret-file", paramLabel = "FILE",
            description = "this host's DH-HMAC-CHAP secret (DHHC-1:...), for the bridge to authenticate with;"
                    + " userspace mode only")
    private Path dhchapSecretFile;

    @Option(names = "--dhchap-ctrl-secret-file", paramLabel = "FILE",
            description = "the controller's secret, to authenticate the node too (bidirectional); userspace mode only")
    private Path dhchapCtrlSecretFile;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<String> bridgeArguments = new ArrayList<>();
        addSecret(bridgeArguments, "--dhchap-secret-file", dhchapSecretFile);
        addSecret(bridgeArguments, "--dhchap-ctrl-secret-file", dhchapCtrlSecretFile);
        if (mode == AttachMode.KERNEL && !bridgeArguments.isEmpty()) {
            // nvme-cli 2.3 takes secrets only as arguments, which every user sees in the process list.
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "DH-HMAC-CHAP secrets are supported in userspace mode only");
        }
        try {
            guest.attacher(bridgeArguments).attach(guest.domain, guest.volume, mode);
            out.println("attached volume " + guest.volume + " to domain " + guest.domain + " ("
                    + mode.name().toLowerCase(Locale.ROOT) + " mode)");
            return 0;
        } catch (AttachException e) {
            return failed(spec, "attach", e);
        }
    }

    /** The secret files' names go to the bridge, which reads and checks them. */
    private static void addSecret(List<String> arguments, String option, Path file) {
        if (file != null) {
            arguments.add(option);
            arguments.add(file.toAbsolutePath().toString());
        }
    }

    static int failed(CommandSpec spec, String what, AttachException e) {
        PrintWriter err = spec.commandLine().getErr();
        err.println(what + " failed: " + e.getMessage());
        for (Throwable s : e.getSuppressed()) {
            err.println("  while rolling back: " + s.getMessage());
        }
        return EXIT_FAILED;
    }

    static final class ModeConverter implements CommandLine.ITypeConverter<AttachMode> {
        @Override
        public AttachMode convert(String value) {
            try {
                return AttachMode.valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("must be kernel or userspace, not '" + value + "'");
            }
        }
    }
}
