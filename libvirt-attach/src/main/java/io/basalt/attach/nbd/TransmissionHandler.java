package io.basalt.attach.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission phase: checks each request against the export, hands it to the
 * {@link NamespaceSession} and answers with a simple reply when it finishes, in whatever order requests
 * finish. NBD_CMD_DISC closes the connection once every request before it has been answered.
 */
final class TransmissionHandler extends ChannelInboundHandlerAdapter implements RequestOutcome {
    private static final Logger log = LoggerFactory.getLogger(TransmissionHandler.class);
    private static final int REPLY_HEADER = 16;
    private final NamespaceSession session;
    private ChannelHandlerContext ctx;
    private int outstanding;
    private boolean disconnecting;

    TransmissionHandler(NamespaceSession session) {
        this.session = session;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        NbdRequest request = (NbdRequest) msg;
        if (disconnecting) {
            request.release(); // nothing may follow NBD_CMD_DISC
            return;
        }
        if (request.type() == NbdProtocol.CMD_DISC) {
            disconnecting = true;
            closeIfIdle();
            return;
        }
        int error = validate(request);
        if (error != NbdProtocol.OK || (request.length() == 0 && request.type() != NbdProtocol.CMD_FLUSH)) {
            request.release();
            reply(request.cookie(), error, null);
            return;
        }
        ByteBuf readData = request.type() == NbdProtocol.CMD_READ ? ctx.alloc().buffer((int) request.length()) : null;
        outstanding++;
        session.execute(new BridgedRequest(request, readData, session, this));
    }

    private int validate(NbdRequest request) {
        ExportGeometry geometry = session.geometry();
        return switch (request.type()) {
            case NbdProtocol.CMD_READ -> request.length() <= NbdProtocol.MAX_PAYLOAD
                    && geometry.admits(request.offset(), request.length()) ? NbdProtocol.OK : NbdProtocol.EINVAL;
            case NbdProtocol.CMD_WRITE, NbdProtocol.CMD_TRIM, NbdProtocol.CMD_WRITE_ZEROES ->
                    geometry.admits(request.offset(), request.length()) ? NbdProtocol.OK : NbdProtocol.EINVAL;
            case NbdProtocol.CMD_FLUSH -> NbdProtocol.OK;
            default -> NbdProtocol.EINVAL;
        };
    }

    @Override
    public void finished(BridgedRequest request, int error) {
        outstanding--;
        request.request().release();
        ByteBuf data = request.readData();
        if (error != NbdProtocol.OK && data != null) {
            data.release();
            data = null;
        }
        reply(request.request().cookie(), error, data);
        closeIfIdle();
    }

    /** A simple reply: the header, then a read's data. Writes to a closed channel just release the buffers. */
    private void reply(long cookie, int error, ByteBuf data) {
        ByteBuf header = ctx.alloc().buffer(REPLY_HEADER);
        header.writeInt(NbdProtocol.SIMPLE_REPLY_MAGIC).writeInt(error).writeLong(cookie);
        if (data == null) {
            ctx.writeAndFlush(header);
        } else {
            ctx.write(header);
            ctx.writeAndFlush(data);
        }
    }

    private void closeIfIdle() {
        if (disconnecting && outstanding == 0) {
            ctx.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.warn("Closing NBD client {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
        ctx.close();
    }
}
