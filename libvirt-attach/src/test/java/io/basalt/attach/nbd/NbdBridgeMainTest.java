package io.basalt.attach.nbd;

import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.auth.DhchapKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bridge as the process the attach tool supervises. */
@Timeout(120)
class NbdBridgeMainTest {
    private static final long PROCESS_TIMEOUT_SECONDS = 30;
    @TempDir
    Path dir;

    private static Process startMain(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), NbdBridgeMain.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
    }

    @Test
    void printsReadyServesAndExitsCleanlyOnSigterm() throws Exception {
        Path socket = dir.resolve("bridge.sock");
        try (RestartableTarget target = new RestartableTarget()) {
            Process bridge = startMain("--socket", socket.toString(), "--target", "127.0.0.1:" + target.port(),
                    "--nqn", RestartableTarget.SUBNQN, "--uuid", RestartableTarget.NS_UUID.toString(),
                    "--host-nqn", RestartableTarget.HOST, "--reconnect-seconds", "10");
            try {
                BufferedReader stdout = new BufferedReader(new InputStreamReader(bridge.getInputStream(),
                        StandardCharsets.UTF_8));
                assertEquals(NbdBridgeMain.READY + socket, stdout.readLine());

                QemuTool.Result io = QemuTool.qemuIo(socket, PROCESS_TIMEOUT_SECONDS, "write -P 0x42 0 64k",
                        "read -P 0x42 0 64k");
                assertEquals(0, io.exitCode(), io.output());
                assertFalse(io.output().contains("Pattern verification failed"), io.output());

                bridge.destroy(); // SIGTERM
                assertTrue(bridge.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS), "the bridge exits on SIGTERM");
                assertEquals(0, bridge.exitValue());
                assertFalse(Files.exists(socket), "the socket file is removed");
            } finally {
                bridge.destroyForcibly();
            }
        }
    }

    @Test
    void unreachableTargetFailsToStartWithAClearError() throws Exception {
        Process bridge = startMain("--socket", dir.resolve("x.sock").toString(), "--target", "127.0.0.1:1",
                "--nqn", RestartableTarget.SUBNQN, "--nsid", "1", "--host-nqn", RestartableTarget.HOST);
        try {
            assertTrue(bridge.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertEquals(1, bridge.exitValue());
            String stderr = new String(bridge.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(stderr.contains("nbd-bridge: cannot start: connecting to " + RestartableTarget.SUBNQN), stderr);
        } finally {
            bridge.destroyForcibly();
        }
    }

    @Test
    void aSocketInUseOrAFileInTheWayIsRefusedAndAStaleSocketReplaced() throws Exception {
        Path socket = dir.resolve("shared.sock");
        try (RestartableTarget target = new RestartableTarget()) {
            NbdBridgeOptions options = target.bridgeOptions(socket);
            try (NbdBridge first = NbdBridge.start(options)) {
                IOException inUse = assertThrows(IOException.class, () -> NbdBridge.start(options));
                assertTrue(inUse.getMessage().contains("in use"), inUse.getMessage());
            }
            try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                crashed.bind(UnixDomainSocketAddress.of(socket)); // its process died and left the file behind
            }
            assertTrue(Files.exists(socket));
            try (NbdBridge second = NbdBridge.start(options)) {
                try (RawNbdClient client = RawNbdClient.connect(socket)) {
                    client.negotiate();
                }
            }
            Path file = dir.resolve("not-a-socket");
            Files.writeString(file, "keep me");
            IOException inTheWay = assertThrows(IOException.class, () -> NbdBridge.start(
                    target.bridgeOptions(file)));
            assertTrue(inTheWay.getMessage().contains("not a socket"), inTheWay.getMessage());
            assertEquals("keep me", Files.readString(file));
        }
    }

    /** The bridge authenticates with the secrets of its files; a wrong or missing secret keeps it from starting. */
    @Test
    void authenticatesWithTheSecretFilesItIsGiven() throws Exception {
        String secret = "DHHC-1:01:bHuByyp0b3RFSx1xQPMVO1HKmUWfzveoahfydpW4fNgSLMVm:";
        String other = "DHHC-1:00:iIUAnmnqGpUWVsXpOuB0Fx+lwU0tgouGmxPqXYf8bMmdqnRi:";
        Path secretFile = Files.writeString(dir.resolve("host.key"), secret + "\n");
        Path controllerFile = Files.writeString(dir.resolve("ctrl.key"), other + "\n");
        try (RestartableTarget target = new RestartableTarget()) {
            target.requireAuthentication(new DhchapCredentials(DhchapKey.parse(secret), DhchapKey.parse(other)));
            String[] base = {"--socket", dir.resolve("auth.sock").toString(), "--target", "127.0.0.1:" + target.port(),
                    "--nqn", RestartableTarget.SUBNQN, "--nsid", "1", "--host-nqn", RestartableTarget.HOST};
            NbdBridgeOptions options = NbdBridgeMain.parse(concat(base, "--dhchap-secret-file", secretFile.toString(),
                    "--dhchap-ctrl-secret-file", controllerFile.toString()));
            assertTrue(options.dhchap().bidirectional());
            NbdBridge.start(options).close();

            IOException unauthenticated = assertThrows(IOException.class, () -> NbdBridge.start(NbdBridgeMain.parse(base)));
            assertTrue(unauthenticated.getMessage().contains("authentication"), unauthenticated.getMessage());
            IOException wrongController = assertThrows(IOException.class, () -> NbdBridge.start(NbdBridgeMain.parse(
                    concat(base, "--dhchap-secret-file", secretFile.toString(), "--dhchap-ctrl-secret-file",
                            secretFile.toString()))));
            assertTrue(wrongController.getMessage().contains("authentication"), wrongController.getMessage());
        }
        Path broken = Files.writeString(dir.resolve("broken.key"), secret.replace("LMVm", "LMVn"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NbdBridgeMain.parse(new String[]{
                "--socket", "s", "--target", "h:1", "--nqn", RestartableTarget.SUBNQN, "--nsid", "1", "--host-nqn",
                RestartableTarget.HOST, "--dhchap-secret-file", broken.toString()}));
        assertFalse(e.getMessage().contains("bHuByyp0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NbdBridgeMain.parse(new String[]{"--socket", "s", "--target",
                "h:1", "--nqn", RestartableTarget.SUBNQN, "--nsid", "1", "--host-nqn", RestartableTarget.HOST,
                "--dhchap-ctrl-secret-file", secretFile.toString()}));
    }

    private static String[] concat(String[] base, String... more) {
        String[] all = Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    @Test
    void argumentsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> NbdBridgeMain.parse(new String[]{"--socket", "s"}));
        assertThrows(IllegalArgumentException.class, () -> NbdBridgeMain.parse(new String[]{"--socket", "s",
                "--target", "h:1", "--nqn", RestartableTarget.SUBNQN, "--nsid", "1", "--uuid",
                RestartableTarget.NS_UUID.toString(), "--host-nqn", RestartableTarget.HOST}));
        assertThrows(IllegalArgumentException.class, () -> NbdBridgeMain.parse(new String[]{"--bogus", "1"}));
        NbdBridgeOptions options = NbdBridgeMain.parse(new String[]{"--socket", "/run/b.sock", "--target",
                "[::1]:4420", "--nqn", RestartableTarget.SUBNQN, "--nsid", "3", "--host-nqn", RestartableTarget.HOST});
        assertEquals("::1", options.targetHost());
        assertEquals(4420, options.targetPort());
        assertEquals(NamespaceSelector.byNsid(3), options.namespace());
        assertEquals(NbdBridgeOptions.DEFAULT_RECONNECT_DEADLINE, options.reconnectDeadline());
    }
}
