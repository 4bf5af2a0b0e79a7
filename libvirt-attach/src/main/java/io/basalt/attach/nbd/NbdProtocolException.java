package io.basalt.attach.nbd;

import io.netty.handler.codec.DecoderException;

/** The client broke the protocol; the connection to it is closed. */
final class NbdProtocolException extends DecoderException {
    NbdProtocolException(String message) {
        super(message);
    }
}
