package io.basalt.cluster.etcd;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A single-member etcd from Debian's {@code etcd-server}, on loopback with free ports and its state in a
 * temporary folder, stopped by its PID. Tests skip without {@code /usr/bin/etcd}, except in CI
 * ({@code CI=true}), where a missing etcd fails them: bin/test installs it.
 */
public final class EtcdProcess implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/bin/etcd");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final Path dataDir;
    private final URI clientUrl;

    private EtcdProcess(Process process, Path dataDir, URI clientUrl) {
        this.process = process;
        this.dataDir = dataDir;
        this.clientUrl = clientUrl;
    }

    /** Skips the calling test when etcd is missing outside CI; fails it when etcd is missing in CI. */
    public static void assumeInstalled() {
        if (Files.isExecutable(BINARY)) {
            return;
        }
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(BINARY + " is missing: CI must install Debian's etcd-server (bin/test does)");
        }
        Assumptions.abort(BINARY + " is missing (apt-get install etcd-server): etcd tests skipped outside CI");
    }

    public static EtcdProcess start() throws IOException, InterruptedException {
        assumeInstalled();
        Path dataDir = Files.createTempDirectory("basalt-etcd-");
        int[] ports = freePorts();
        int clientPort = ports[0];
        int peerPort = ports[1];
        String client = "http://127.0.0.1:" + clientPort;
        String peer = "http://127.0.0.1:" + peerPort;
        Process process = new ProcessBuilder(BINARY.toString(), "--name", "basalt-test", "--data-dir",
                dataDir.resolve("member").toString(), "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "basalt-test=" + peer, "--logger", "zap", "--log-level", "warn")
                .redirectErrorStream(true).redirectOutput(dataDir.resolve("etcd.log").toFile()).start();
        EtcdProcess etcd = new EtcdProcess(process, dataDir, URI.create(client));
        try {
            etcd.awaitListening(clientPort);
        } catch (IOException | InterruptedException | RuntimeException e) {
            etcd.close();
            throw e;
        }
        return etcd;
    }

    public URI clientUrl() {
        return clientUrl;
    }

    public int clientPort() {
        return clientUrl.getPort();
    }

    private void awaitListening(int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("etcd exited with " + process.exitValue() + ": " + log());
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new IOException("etcd did not listen on port " + port + " within " + START_TIMEOUT.toSeconds() + " s: " + log());
    }

    private String log() {
        try {
            return Files.readString(dataDir.resolve("etcd.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /**
     * Two distinct free ports for the client and peer URLs: both sockets are held open together, since a
     * port closed before the second is asked for may be handed out again, and etcd cannot listen twice on
     * one port.
     */
    private static int[] freePorts() throws IOException {
        try (ServerSocket client = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ServerSocket peer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return new int[] {client.getLocalPort(), peer.getLocalPort()};
        }
    }

    /** Stops etcd by its PID (SIGTERM, then SIGKILL after 10 s) and deletes its folder. */
    @Override
    public void close() throws InterruptedException {
        ProcessHandle handle = process.toHandle();
        handle.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            handle.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        try (Stream<Path> files = Files.walk(dataDir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dataDir, e);
        }
    }

    /** The endpoints list the cluster settings take. */
    public List<URI> endpoints() {
        return List.of(clientUrl);
    }
}
