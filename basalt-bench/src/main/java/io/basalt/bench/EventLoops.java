package io.basalt.bench;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.concurrent.TimeUnit;

/** Event loop groups for the benchmark: epoll where available (as the node uses), else NIO. */
final class EventLoops {
    private EventLoops() {
    }

    static EventLoopGroup create(int threads) {
        return Epoll.isAvailable() ? new EpollEventLoopGroup(threads) : new NioEventLoopGroup(threads);
    }

    /** The built-in host's event loops, named so that {@link TargetThreadCosts} leaves them out. */
    static EventLoopGroup createForHost(int threads) {
        DefaultThreadFactory named = new DefaultThreadFactory(TargetThreadCosts.HOST_THREADS);
        return Epoll.isAvailable() ? new EpollEventLoopGroup(threads, named) : new NioEventLoopGroup(threads, named);
    }

    static Class<? extends SocketChannel> socketChannel(EventLoopGroup group) {
        return group instanceof EpollEventLoopGroup ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    static Class<? extends ServerSocketChannel> serverChannel(EventLoopGroup group) {
        return group instanceof EpollEventLoopGroup ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    static void shutdown(EventLoopGroup group) {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Threads for the server side of an in-process run: one per core, as a node runs. */
    static int serverThreads() {
        return Runtime.getRuntime().availableProcessors();
    }
}
