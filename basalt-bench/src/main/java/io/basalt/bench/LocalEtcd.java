package io.basalt.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A single-member etcd from Debian's {@code etcd-server} for a benchmark's cluster: loopback only, free
 * ports, its state and log in a folder the caller owns, stopped by its PID when closed.
 */
final class LocalEtcd implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/bin/etcd");
    private static final long START_TIMEOUT_MILLIS = 30_000;
    private static final long STOP_TIMEOUT_SECONDS = 10;

    private final Process process;
    private final URI clientUrl;

    private LocalEtcd(Process process, URI clientUrl) {
        this.process = process;
        this.clientUrl = clientUrl;
    }

    /** Starts etcd with its data and log under {@code dir}; waits, bounded, until it takes connections. */
    static LocalEtcd start(Path dir) throws IOException, InterruptedException {
        if (!Files.isExecutable(BINARY)) {
            throw new IOException(BINARY + " is missing (apt-get install etcd-server)");
        }
        int clientPort = freePort();
        String client = "http://127.0.0.1:" + clientPort;
        String peer = "http://127.0.0.1:" + freePort();
        Process process = new ProcessBuilder(BINARY.toString(), "--name", "bench", "--data-dir",
                dir.resolve("member").toString(), "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "bench=" + peer,
                "--logger", "zap", "--log-level", "warn")
                .redirectErrorStream(true).redirectOutput(dir.resolve("etcd.log").toFile()).start();
        LocalEtcd etcd = new LocalEtcd(process, URI.create(client));
        try {
            etcd.awaitListening(clientPort, dir);
        } catch (IOException | InterruptedException | RuntimeException e) {
            etcd.close();
            throw e;
        }
        return etcd;
    }

    URI clientUrl() {
        return clientUrl;
    }

    private void awaitListening(int port, Path dir) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("etcd exited with " + process.exitValue() + ", see " + dir.resolve("etcd.log"));
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new IOException("etcd did not listen on port " + port + " within " + START_TIMEOUT_MILLIS / 1000 + " s");
    }

    /** A port free on loopback now (the caller binds it soon after). */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** SIGTERM by PID, SIGKILL if it has not exited within {@value #STOP_TIMEOUT_SECONDS} s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
    }
}
