package io.basalt.attach.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/** Frames the transmission phase: 28-byte requests, followed by their data for writes. */
final class RequestDecoder extends ByteToMessageDecoder {
    private static final int HEADER = 28;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < HEADER) {
            return;
        }
        int start = in.readerIndex();
        int magic = in.getInt(start);
        if (magic != NbdProtocol.REQUEST_MAGIC) {
            throw new NbdProtocolException("bad request magic 0x" + Integer.toHexString(magic));
        }
        int type = in.getUnsignedShort(start + 6);
        long length = in.getUnsignedInt(start + 24);
        int payload = 0;
        if (type == NbdProtocol.CMD_WRITE) {
            // the data has to be read to find the next request, so a write too large to buffer ends the connection
            if (length > NbdProtocol.MAX_PAYLOAD) {
                throw new NbdProtocolException("write of " + length + " bytes exceeds the maximum payload");
            }
            payload = (int) length;
        }
        if (in.readableBytes() < HEADER + payload) {
            return;
        }
        in.skipBytes(HEADER);
        out.add(new NbdRequest(in.getUnsignedShort(start + 4), type, in.getLong(start + 8), in.getLong(start + 16),
                length, type == NbdProtocol.CMD_WRITE ? in.readRetainedSlice(payload) : null));
    }
}
