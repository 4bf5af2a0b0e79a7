package io.basalt.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.flush.FlushConsolidationHandler;

import java.io.IOException;
import java.util.ArrayDeque;

/**
 * The client side of the echo baseline, shaped like a host queue: it sends what an I/O sends (the
 * data of a write without copying it, or a 72-byte command for a read), pairs replies with I/Os in
 * order, copies read data into the I/O's buffer as the host does, and consolidates flushes the same way.
 */
final class EchoClient extends ChannelInboundHandlerAdapter implements BenchTransport {
    private final boolean reads;
    private final int replySize;
    private final ArrayDeque<Op> inFlight = new ArrayDeque<>();
    private final Channel channel;
    private int replied;

    EchoClient(EventLoopGroup group, int port, int ioSize, boolean reads) {
        this.reads = reads;
        this.replySize = reads ? ioSize : EchoServer.COMPLETION_SIZE;
        EchoClient handler = this;
        channel = new Bootstrap()
                .group(group)
                .channel(EventLoops.socketChannel(group))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new FlushConsolidationHandler(256, true), handler);
                    }
                })
                .connect("127.0.0.1", port).syncUninterruptibly().channel();
    }

    @Override
    public void submit(Op op) {
        if (channel.eventLoop().inEventLoop()) {
            send(op);
        } else {
            channel.eventLoop().execute(() -> send(op));
        }
    }

    private void send(Op op) {
        inFlight.add(op);
        if (reads) {
            op.buffer.clear();
            ByteBuf command = channel.alloc().buffer(EchoServer.COMMAND_SIZE).writeZero(EchoServer.COMMAND_SIZE);
            command.setLongLE(40, op.offset);
            channel.write(command, channel.voidPromise());
        } else {
            channel.write(op.buffer.retainedSlice(), channel.voidPromise());
        }
        channel.flush();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            while (in.isReadable()) {
                Op op = inFlight.peek();
                if (op == null) {
                    throw new IllegalStateException("echo reply without a request");
                }
                int n = Math.min(in.readableBytes(), replySize - replied);
                if (reads) {
                    op.buffer.writeBytes(in, n);
                } else {
                    in.skipBytes(n);
                }
                replied += n;
                if (replied == replySize) {
                    replied = 0;
                    inFlight.poll();
                    op.done(0);
                }
            }
        } finally {
            in.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Op op;
        while ((op = inFlight.poll()) != null) {
            op.load.failed(op, new IOException("echo connection closed"));
        }
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }
}
