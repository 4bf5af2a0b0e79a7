package io.basalt.attach;

import io.basalt.attach.kernel.KernelConnector;
import io.basalt.attach.kernel.NvmeCli;
import io.basalt.attach.kernel.SysfsNamespaces;
import io.basalt.attach.libvirt.Domains;
import io.basalt.attach.userspace.BridgeProcess;
import io.basalt.attach.userspace.UserspaceConnector;
import io.basalt.bridge.client.ApiOptions;
import io.basalt.bridge.client.VolumeApiException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The options {@code attach} and {@code detach} share: which guest, which volume, and how to reach them. */
final class GuestOptions {
    private static final Path HOST_NQN_FILE = Path.of("/etc/nvme/hostnqn");

    @Option(names = "--domain", required = true, paramLabel = "NAME", description = "the running libvirt guest")
    String domain;

    @Option(names = "--volume", required = true, paramLabel = "ID", description = "the volume's ID")
    String volume;

    @Option(names = "--host-nqn", paramLabel = "NQN", description = "this host's NQN (default: the contents of /etc/nvme/hostnqn)")
    private String hostNqn;

    @Option(names = "--libvirt-uri", paramLabel = "URI", defaultValue = Domains.DEFAULT_URI,
            description = "the libvirt daemon (default: ${DEFAULT-VALUE})")
    private String libvirtUri;

    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = "/run/basalt-attach",
            description = "where attachments are recorded (default: ${DEFAULT-VALUE})")
    private Path stateDir;

    @Mixin
    private ApiOptions api;

    /** @param bridgeArguments extra arguments for the userspace bridge process (its DH-HMAC-CHAP secret files) */
    Attacher attacher(List<String> bridgeArguments) throws AttachException {
        String nqn = hostNqn != null ? hostNqn : hostNqnOfThisMachine();
        AttachmentStore store = new AttachmentStore(stateDir);
        KernelConnector kernel = new KernelConnector(new NvmeCli("nvme", Duration.ofSeconds(60)),
                new SysfsNamespaces(Path.of("/sys")), nqn, Duration.ofSeconds(30));
        UserspaceConnector userspace = new UserspaceConnector(
                BridgeProcess.onThisClasspath(Duration.ofSeconds(30), Duration.ofSeconds(10))
                        .withArguments(bridgeArguments), store, nqn);
        try {
            return new Attacher(api.client(Duration.ofSeconds(10)), new Domains(libvirtUri),
                    Map.of(AttachMode.KERNEL, kernel, AttachMode.USERSPACE, userspace),
                    store, nqn, Duration.ofSeconds(60));
        } catch (VolumeApiException e) {
            throw new AttachException(e.getMessage(), e);
        }
    }

    private static String hostNqnOfThisMachine() throws AttachException {
        try {
            String nqn = Files.readString(HOST_NQN_FILE).strip();
            if (nqn.isEmpty()) {
                throw new AttachException(HOST_NQN_FILE + " is empty; give --host-nqn or run nvme gen-hostnqn");
            }
            return nqn;
        } catch (IOException e) {
            throw new AttachException("cannot read this host's NQN from " + HOST_NQN_FILE + "; give --host-nqn: " + e.getMessage(), e);
        }
    }
}
