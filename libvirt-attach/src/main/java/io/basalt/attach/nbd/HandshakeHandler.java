package io.basalt.attach.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The negotiation phase, fixed newstyle: greets the client, answers its options, and on
 * NBD_OPT_GO or NBD_OPT_EXPORT_NAME hands the connection to the transmission phase. There is one
 * export, so every export name selects it.
 */
final class HandshakeHandler extends SimpleChannelInboundHandler<Object> {
    private static final Logger log = LoggerFactory.getLogger(HandshakeHandler.class);
    private final NamespaceSession session;
    private boolean noZeroes;

    HandshakeHandler(NamespaceSession session) {
        this.session = session;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ByteBuf greeting = ctx.alloc().buffer(18);
        greeting.writeLong(NbdProtocol.NBDMAGIC).writeLong(NbdProtocol.IHAVEOPT)
                .writeShort(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES);
        ctx.writeAndFlush(greeting);
        ctx.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof NbdClientFlags flags) {
            noZeroes = flags.noZeroes();
            return;
        }
        NbdOption option = (NbdOption) msg;
        try {
            switch (option.option()) {
                case NbdProtocol.OPT_GO, NbdProtocol.OPT_INFO -> answerInfo(ctx, option);
                case NbdProtocol.OPT_EXPORT_NAME -> exportName(ctx);
                case NbdProtocol.OPT_LIST -> list(ctx, option);
                case NbdProtocol.OPT_ABORT -> {
                    ctx.writeAndFlush(reply(ctx, option.option(), NbdProtocol.REP_ACK, 0))
                            .addListener(ChannelFutureListener.CLOSE);
                    return;
                }
                default -> ctx.write(reply(ctx, option.option(), NbdProtocol.REP_ERR_UNSUP, 0));
            }
            ctx.flush();
        } finally {
            option.release();
        }
    }

    /** NBD_OPT_INFO and NBD_OPT_GO: the export's size, flags and block sizes; GO then starts transmission. */
    private void answerInfo(ChannelHandlerContext ctx, NbdOption option) {
        ByteBuf data = option.data();
        if (data.readableBytes() < 4 || data.readableBytes() < 4 + data.getUnsignedInt(0) + 2) {
            ctx.write(reply(ctx, option.option(), NbdProtocol.REP_ERR_INVALID, 0));
            return;
        }
        long nameLength = data.getUnsignedInt(0);
        int requests = data.getUnsignedShort((int) (4 + nameLength));
        if (data.readableBytes() != 4 + nameLength + 2 + 2L * requests) {
            ctx.write(reply(ctx, option.option(), NbdProtocol.REP_ERR_INVALID, 0));
            return;
        }
        ExportGeometry geometry = session.geometry();
        ctx.write(reply(ctx, option.option(), NbdProtocol.REP_INFO, 12).writeShort(NbdProtocol.INFO_EXPORT)
                .writeLong(geometry.sizeBytes()).writeShort(NbdProtocol.TRANSMISSION_FLAGS));
        // sent whether asked for or not: a client that ignores it gets EINVAL for unaligned requests either way
        ctx.write(reply(ctx, option.option(), NbdProtocol.REP_INFO, 14).writeShort(NbdProtocol.INFO_BLOCK_SIZE)
                .writeInt(geometry.blockSize())
                .writeInt(Math.max(geometry.blockSize(), NbdProtocol.PREFERRED_BLOCK_SIZE))
                .writeInt(geometry.maxTransferBytes()));
        ctx.write(reply(ctx, option.option(), NbdProtocol.REP_ACK, 0));
        if (option.option() == NbdProtocol.OPT_GO) {
            startTransmission(ctx);
        }
    }

    /** The old way in: no reply header and no way to refuse; the size and flags, then transmission. */
    private void exportName(ChannelHandlerContext ctx) {
        ByteBuf answer = ctx.alloc().buffer(10 + (noZeroes ? 0 : NbdProtocol.EXPORT_NAME_PADDING));
        answer.writeLong(session.geometry().sizeBytes()).writeShort(NbdProtocol.TRANSMISSION_FLAGS);
        if (!noZeroes) {
            answer.writeZero(NbdProtocol.EXPORT_NAME_PADDING);
        }
        ctx.write(answer);
        startTransmission(ctx);
    }

    private void list(ChannelHandlerContext ctx, NbdOption option) {
        if (option.data().isReadable()) {
            ctx.write(reply(ctx, option.option(), NbdProtocol.REP_ERR_INVALID, 0));
            return;
        }
        ctx.write(reply(ctx, option.option(), NbdProtocol.REP_SERVER, 4).writeInt(0)); // the one export, named ""
        ctx.write(reply(ctx, option.option(), NbdProtocol.REP_ACK, 0));
    }

    /** An option reply header, with room after it for the {@code length} bytes of data the caller appends. */
    private static ByteBuf reply(ChannelHandlerContext ctx, int option, int type, int length) {
        ByteBuf reply = ctx.alloc().buffer(20 + length);
        return reply.writeLong(NbdProtocol.OPTION_REPLY_MAGIC).writeInt(option).writeInt(type).writeInt(length);
    }

    private void startTransmission(ChannelHandlerContext ctx) {
        log.debug("Client {} starts transmission", ctx.channel().remoteAddress());
        // the handler first, so that bytes the old decoder still holds reach the new one already followed by it
        ctx.pipeline().replace(this, TransmissionHandler.class.getSimpleName(), new TransmissionHandler(session));
        ctx.pipeline().replace(OptionDecoder.class, RequestDecoder.class.getSimpleName(), new RequestDecoder());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.warn("Closing NBD client {} during negotiation: {}", ctx.channel().remoteAddress(), cause.getMessage());
        ctx.close();
    }

}
