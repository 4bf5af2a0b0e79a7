package io.basalt.attach.nbd;

import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.auth.DhchapKey;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

/**
 * The bridge as a process, which the attach tool starts and supervises: it prints
 * {@code nbd-bridge ready <socket>} once clients can connect, and on SIGTERM disconnects, removes the
 * socket and exits 0.
 */
public final class NbdBridgeMain {
    static final String READY = "nbd-bridge ready ";
    private static final String USAGE = "usage: nbd-bridge --socket PATH --target ADDR:PORT --nqn SUBNQN"
            + " (--nsid N | --uuid NS-UUID) --host-nqn NQN [--reconnect-seconds N]"
            + " [--dhchap-secret-file PATH [--dhchap-ctrl-secret-file PATH]]";
    private static final Set<String> OPTIONS = Set.of("--socket", "--target", "--nqn", "--nsid", "--uuid", "--host-nqn",
            "--reconnect-seconds", "--dhchap-secret-file", "--dhchap-ctrl-secret-file");
    private static final int EXIT_USAGE = 2;
    private static final int EXIT_START_FAILED = 1;

    private NbdBridgeMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        NbdBridgeOptions options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("nbd-bridge: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(EXIT_USAGE);
            return;
        }
        NbdBridge bridge;
        try {
            bridge = NbdBridge.start(options);
        } catch (IOException e) {
            System.err.println("nbd-bridge: cannot start: " + e.getMessage());
            System.exit(EXIT_START_FAILED);
            return;
        }
        CountDownLatch forever = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            bridge.close();
            // a SIGTERM is how the supervisor asks for a clean stop, so it is a success and not status 143
            Runtime.getRuntime().halt(0);
        }, "nbd-bridge-shutdown"));
        System.out.println(READY + bridge.socketPath());
        System.out.flush();
        forever.await();
    }

    static NbdBridgeOptions parse(String[] args) {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!OPTIONS.contains(args[i])) {
                throw new IllegalArgumentException("unknown argument " + args[i]);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            values.put(args[i], args[i + 1]);
        }
        String target = required(values, "--target");
        int colon = target.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("--target must be ADDR:PORT, not " + target);
        }
        String host = target.substring(0, colon).replace("[", "").replace("]", "");
        NamespaceSelector namespace;
        if (values.containsKey("--nsid") == values.containsKey("--uuid")) {
            throw new IllegalArgumentException("give exactly one of --nsid and --uuid");
        }
        namespace = values.containsKey("--nsid") ? NamespaceSelector.byNsid(number(values, "--nsid"))
                : NamespaceSelector.byUuid(UUID.fromString(values.get("--uuid")));
        Duration deadline = values.containsKey("--reconnect-seconds")
                ? Duration.ofSeconds(number(values, "--reconnect-seconds")) : NbdBridgeOptions.DEFAULT_RECONNECT_DEADLINE;
        return new NbdBridgeOptions(Path.of(required(values, "--socket")), host,
                number(target.substring(colon + 1), "--target port"), required(values, "--nqn"), namespace,
                required(values, "--host-nqn"), deadline, dhchap(values));
    }

    /**
     * DH-HMAC-CHAP secrets come from files (the DHHC-1 form of nvme gen-dhchap-key), never from
     * arguments, which every user of the machine sees in the process list.
     */
    private static DhchapCredentials dhchap(Map<String, String> values) {
        String hostFile = values.get("--dhchap-secret-file");
        String controllerFile = values.get("--dhchap-ctrl-secret-file");
        if (hostFile == null) {
            if (controllerFile != null) {
                throw new IllegalArgumentException("--dhchap-ctrl-secret-file needs --dhchap-secret-file");
            }
            return null;
        }
        return new DhchapCredentials(secret(hostFile), controllerFile == null ? null : secret(controllerFile));
    }

    private static DhchapKey secret(String file) {
        try {
            return DhchapKey.parse(Files.readString(Path.of(file)));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
    }

    private static String required(Map<String, String> values, String name) {
        String value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException(name + " is required");
        }
        return value;
    }

    private static int number(Map<String, String> values, String name) {
        return number(values.get(name), name);
    }

    private static int number(String value, String name) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number, not " + value);
        }
    }
}
