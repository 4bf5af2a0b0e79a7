package io.basalt.attach.nbd;

import io.netty.buffer.ByteBuf;

/** One option the client sent during negotiation; {@code data} must be released by whoever handles it. */
record NbdOption(int option, ByteBuf data) {
    void release() {
        data.release();
    }
}
