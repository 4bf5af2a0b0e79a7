package io.basalt.attach.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Frames the negotiation phase: the client flags, then options ({@code IHAVEOPT}, option, length,
 * data). Anything that is not fixed newstyle ends the connection.
 */
final class OptionDecoder extends ByteToMessageDecoder {
    private static final int HEADER = 16;
    /** Option data is an export name and a few info requests; far less than this. */
    private static final int MAX_OPTION_DATA = 64 * 1024;
    private boolean flagsRead;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!flagsRead) {
            if (in.readableBytes() < 4) {
                return;
            }
            int flags = in.readInt();
            if ((flags & NbdProtocol.FLAG_FIXED_NEWSTYLE) == 0 || (flags & ~NbdProtocol.CLIENT_FLAGS_KNOWN) != 0) {
                throw new NbdProtocolException("unsupported client flags 0x" + Integer.toHexString(flags));
            }
            flagsRead = true;
            out.add(new NbdClientFlags(flags));
            return;
        }
        if (in.readableBytes() < HEADER) {
            return;
        }
        int start = in.readerIndex();
        if (in.getLong(start) != NbdProtocol.IHAVEOPT) {
            throw new NbdProtocolException("bad option magic 0x" + Long.toHexString(in.getLong(start)));
        }
        int option = in.getInt(start + 8);
        long length = in.getUnsignedInt(start + 12);
        if (length > MAX_OPTION_DATA) {
            throw new NbdProtocolException("option " + option + " carries " + length + " bytes");
        }
        if (in.readableBytes() < HEADER + length) {
            return;
        }
        in.skipBytes(HEADER);
        out.add(new NbdOption(option, in.readRetainedSlice((int) length)));
    }
}
