package io.basalt.attach.nbd;

import io.netty.buffer.ByteBuf;

/**
 * One transmission request as framed by {@link RequestDecoder}.
 *
 * @param offset  unsigned on the wire; a negative value is past any export
 * @param length  unsigned on the wire, as a long so that no value wraps
 * @param payload the data of a write (owned by the request), else null
 */
record NbdRequest(int flags, int type, long cookie, long offset, long length, ByteBuf payload) {
    boolean fua() {
        return (flags & NbdProtocol.CMD_FLAG_FUA) != 0;
    }

    void release() {
        if (payload != null) {
            payload.release();
        }
    }
}
