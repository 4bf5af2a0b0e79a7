package io.basalt.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;

import java.net.InetSocketAddress;

/**
 * The loopback ceiling: a server that does nothing but move the bytes an NVMe/TCP I/O moves. A write
 * is a request of the I/O's size answered by a 24-byte reply (a completion); a read is a 72-byte
 * request (a command capsule) answered by the I/O's size of data. Replies go out without copying.
 */
final class EchoServer implements AutoCloseable {
    static final int COMMAND_SIZE = 72;
    static final int COMPLETION_SIZE = 24;

    private final EventLoopGroup group;
    private final Channel server;
    private final ByteBuf reply;

    EchoServer(int ioSize, boolean reads) {
        int requestSize = reads ? COMMAND_SIZE : ioSize;
        int replySize = reads ? ioSize : COMPLETION_SIZE;
        reply = PooledByteBufAllocator.DEFAULT.directBuffer(replySize).writeZero(replySize);
        group = EventLoops.create(EventLoops.serverThreads());
        server = new ServerBootstrap()
                .group(group)
                .channel(EventLoops.serverChannel(group))
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new Replier(requestSize));
                    }
                })
                .bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Answers every whole request received; replies of one read burst leave in one flush. */
    private final class Replier extends ChannelInboundHandlerAdapter {
        private final int requestSize;
        private long pending;

        Replier(int requestSize) {
            this.requestSize = requestSize;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            pending += in.readableBytes();
            in.release();
            while (pending >= requestSize) {
                pending -= requestSize;
                ctx.write(reply.retainedDuplicate(), ctx.voidPromise());
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        EventLoops.shutdown(group);
        reply.release();
    }
}
