package io.basalt.cluster.etcd;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP proxy in front of etcd that can stop passing bytes without closing anything: a node
 * behind it is cut off from etcd the way a network partition cuts it (its calls get no answer), and
 * when the proxy resumes, its connections carry on. One virtual thread per direction per connection.
 */
public final class PausableProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean paused;
    private volatile boolean closed;

    public PausableProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("proxy-accept").start(this::accept);
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Bytes already read are held until {@link #resume()}; nothing is dropped and no connection closes. */
    public void pause() {
        paused = true;
    }

    public void resume() {
        paused = false;
    }

    private void accept() {
        while (!closed) {
            try {
                Socket downstream = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(downstream);
                sockets.add(upstream);
                Thread.ofVirtual().start(() -> pump(downstream, upstream));
                Thread.ofVirtual().start(() -> pump(upstream, downstream));
            } catch (IOException e) {
                return; // the server socket was closed
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int read;
            while ((read = in.read(buffer)) >= 0) {
                while (paused && !closed) {
                    Thread.sleep(10);
                }
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // one side closed: the other goes too
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        sockets.forEach(PausableProxy::closeQuietly);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // closing is best effort here
        }
    }
}
