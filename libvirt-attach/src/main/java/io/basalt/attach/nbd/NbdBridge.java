package io.basalt.attach.nbd;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An NBD server on a unix socket whose one export is an NVMe namespace reached over NVMe/TCP. It lets
 * QEMU use a Basalt volume on a host without the nvme-tcp kernel module. One event loop carries both the
 * NBD clients and the NVMe/TCP connection: a bridge serves one guest disk, and one core keeps up with
 * the network while the state needs no locks.
 */
public final class NbdBridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NbdBridge.class);
    private static final int FLUSH_CONSOLIDATION = 64;
    private static final long CLOSE_TIMEOUT_SECONDS = 5;

    private final EpollEventLoopGroup group;
    private final NamespaceSession session;
    private final Channel server;
    private final ChannelGroup clients;
    private final Path socketPath;

    private NbdBridge(EpollEventLoopGroup group, NamespaceSession session, Channel server, ChannelGroup clients,
                      Path socketPath) {
        this.group = group;
        this.session = session;
        this.server = server;
        this.clients = clients;
        this.socketPath = socketPath;
    }

    /**
     * Connects to the namespace, then listens on the socket; returns once clients can connect.
     *
     * @throws IOException the namespace cannot be reached, or the socket cannot be created
     */
    public static NbdBridge start(NbdBridgeOptions options) throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("native epoll is unavailable, which unix sockets need", Epoll.unavailabilityCause());
        }
        Path socketPath = options.socketPath().toAbsolutePath();
        removeStaleSocket(socketPath);
        EpollEventLoopGroup group = new EpollEventLoopGroup(1);
        NamespaceSession session = null;
        try {
            session = await(NamespaceSession.open(group, options), "connecting to " + options.subsystemNqn() + " at "
                    + options.targetHost() + ":" + options.targetPort());
            ChannelGroup clients = new DefaultChannelGroup(group.next());
            NamespaceSession connected = session;
            Channel server = new ServerBootstrap()
                    .group(group)
                    .channel(EpollServerDomainSocketChannel.class)
                    .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                    .childHandler(new ChannelInitializer<DomainSocketChannel>() {
                        @Override
                        protected void initChannel(DomainSocketChannel ch) {
                            clients.add(ch);
                            ch.pipeline().addLast(new FlushConsolidationHandler(FLUSH_CONSOLIDATION, true),
                                    new OptionDecoder(), new HandshakeHandler(connected));
                        }
                    })
                    .bind(new DomainSocketAddress(socketPath.toString()))
                    .syncUninterruptibly().channel();
            log.info("Serving {} of {} over NBD on {}", options.namespace(), options.subsystemNqn(), socketPath);
            return new NbdBridge(group, session, server, clients, socketPath);
        } catch (IOException | RuntimeException e) {
            if (session != null) {
                session.closeAsync();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e instanceof IOException io ? io : new IOException("cannot listen on " + socketPath + ": " + e, e);
        }
    }

    /** A socket file nobody listens on is what a crashed bridge leaves; one that answers belongs to a live one. */
    private static void removeStaleSocket(Path socketPath) throws IOException {
        if (!Files.exists(socketPath)) {
            return;
        }
        if (!Files.readAttributes(socketPath, BasicFileAttributes.class).isOther()) {
            throw new IOException(socketPath + " exists and is not a socket");
        }
        boolean answered;
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            answered = probe.connect(UnixDomainSocketAddress.of(socketPath));
        } catch (IOException refused) {
            answered = false;
        }
        if (answered) {
            throw new IOException(socketPath + " is in use by another server");
        }
        Files.delete(socketPath);
    }

    private static <T> T await(CompletableFuture<T> future, String what) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + " was interrupted", e);
        } catch (ExecutionException e) {
            throw new IOException(what + ": " + e.getCause().getMessage(), e.getCause());
        }
    }

    public Path socketPath() {
        return socketPath;
    }

    /** Stops listening, closes the clients, disconnects from the target and removes the socket file. */
    @Override
    public void close() {
        server.close().syncUninterruptibly();
        clients.close().syncUninterruptibly();
        try {
            session.closeAsync().get(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("Disconnecting from the target: {}", e.toString());
        }
        try {
            Files.deleteIfExists(socketPath);
        } catch (IOException e) {
            log.warn("Cannot remove {}: {}", socketPath, e.toString());
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
