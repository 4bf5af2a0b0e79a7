package io.basalt.attach;

import io.basalt.attach.api.VolumeApiClient;
import io.basalt.attach.kernel.KernelConnector;
import io.basalt.attach.kernel.NvmeCli;
import io.basalt.attach.kernel.SysfsNamespaces;
import io.basalt.attach.libvirt.Domains;
import io.basalt.attach.userspace.BridgeProcess;
import io.basalt.attach.userspace.UserspaceConnector;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code attach} / {@code detach} on the command line; exit status 0 done, 1 failed, 2 usage. */
public final class AttachMain {
    private static final String USAGE = """
            usage: attach --domain NAME --volume ID [--mode kernel|userspace] [options]
                   detach --domain NAME --volume ID [options]
            options: --api URL (default $BASALT_API_URL or http://127.0.0.1:8470)
                     --token-file PATH (the API's bearer token; default $BASALT_API_TOKEN)
                     --host-nqn NQN (default: the contents of /etc/nvme/hostnqn)
                     --libvirt-uri URI (default qemu:///system)
                     --state-dir DIR (default /run/basalt-attach)
                     --dhchap-secret-file PATH [--dhchap-ctrl-secret-file PATH] (DH-HMAC-CHAP secrets
                       the bridge authenticates with; userspace mode only)""";
    private static final Set<String> OPTIONS = Set.of("--domain", "--volume", "--mode", "--api", "--token-file",
            "--host-nqn", "--libvirt-uri", "--state-dir", "--dhchap-secret-file", "--dhchap-ctrl-secret-file");
    private static final List<String> DHCHAP_OPTIONS = List.of("--dhchap-secret-file", "--dhchap-ctrl-secret-file");
    private static final Path HOST_NQN_FILE = Path.of("/etc/nvme/hostnqn");

    private AttachMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || !(args[0].equals("attach") || args[0].equals("detach"))) {
            err.println(USAGE);
            return 2;
        }
        Map<String, String> options = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            if (!OPTIONS.contains(args[i]) || i + 1 == args.length) {
                err.println("bad argument " + args[i] + "\n" + USAGE);
                return 2;
            }
            options.put(args[i], args[i + 1]);
        }
        String domain = options.get("--domain");
        String volume = options.get("--volume");
        AttachMode mode;
        try {
            mode = AttachMode.valueOf(options.getOrDefault("--mode", "kernel").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            err.println("--mode must be kernel or userspace\n" + USAGE);
            return 2;
        }
        if (domain == null || volume == null) {
            err.println("--domain and --volume are required\n" + USAGE);
            return 2;
        }
        if (mode == AttachMode.KERNEL && DHCHAP_OPTIONS.stream().anyMatch(options::containsKey)) {
            // nvme-cli 2.3 takes secrets only as arguments, which every user sees in the process list.
            err.println("DH-HMAC-CHAP secrets are supported in userspace mode only\n" + USAGE);
            return 2;
        }
        try {
            Attacher attacher = attacher(options);
            if (args[0].equals("attach")) {
                attacher.attach(domain, volume, mode);
                out.println("attached volume " + volume + " to domain " + domain + " (" + mode.name().toLowerCase(Locale.ROOT) + " mode)");
            } else {
                attacher.detach(domain, volume);
                out.println("detached volume " + volume + " from domain " + domain);
            }
            return 0;
        } catch (AttachException e) {
            err.println(args[0] + " failed: " + e.getMessage());
            for (Throwable s : e.getSuppressed()) {
                err.println("  while rolling back: " + s.getMessage());
            }
            return 1;
        }
    }

    private static Attacher attacher(Map<String, String> options) throws AttachException {
        String hostNqn = options.containsKey("--host-nqn") ? options.get("--host-nqn") : hostNqnOfThisMachine();
        URI apiUrl = URI.create(options.getOrDefault("--api", envOr("BASALT_API_URL", "http://127.0.0.1:8470")));
        String token = apiToken(options.get("--token-file"));
        AttachmentStore store = new AttachmentStore(Path.of(options.getOrDefault("--state-dir", "/run/basalt-attach")));
        KernelConnector kernel = new KernelConnector(new NvmeCli("nvme", Duration.ofSeconds(60)),
                new SysfsNamespaces(Path.of("/sys")), hostNqn, Duration.ofSeconds(30));
        UserspaceConnector userspace = new UserspaceConnector(
                BridgeProcess.onThisClasspath(Duration.ofSeconds(30), Duration.ofSeconds(10))
                        .withArguments(dhchapArguments(options)), store, hostNqn);
        return new Attacher(new VolumeApiClient(apiUrl, token, Duration.ofSeconds(10)),
                new Domains(options.getOrDefault("--libvirt-uri", Domains.DEFAULT_URI)),
                Map.of(AttachMode.KERNEL, kernel, AttachMode.USERSPACE, userspace),
                store, hostNqn, Duration.ofSeconds(60));
    }

    /** The secrets' file names for the bridge, which reads and checks them. */
    private static List<String> dhchapArguments(Map<String, String> options) {
        List<String> arguments = new ArrayList<>();
        for (String option : DHCHAP_OPTIONS) {
            if (options.containsKey(option)) {
                arguments.add(option);
                arguments.add(Path.of(options.get(option)).toAbsolutePath().toString());
            }
        }
        return arguments;
    }

    /**
     * The token comes from a file or the environment, never from an argument, because arguments
     * are visible to every user of the machine in the process list.
     */
    private static String apiToken(String tokenFile) throws AttachException {
        if (tokenFile == null) {
            return envOr("BASALT_API_TOKEN", null);
        }
        try {
            String token = Files.readString(Path.of(tokenFile)).strip();
            if (token.isEmpty()) {
                throw new AttachException("the token file " + tokenFile + " is empty");
            }
            return token;
        } catch (IOException e) {
            throw new AttachException("cannot read the API token from " + tokenFile + ": " + e.getMessage(), e);
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

    private static String envOr(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
