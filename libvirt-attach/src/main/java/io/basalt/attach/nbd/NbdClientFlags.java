package io.basalt.attach.nbd;

/** The flags a client answers the server's greeting with; they open negotiation. */
record NbdClientFlags(int flags) {
    boolean noZeroes() {
        return (flags & NbdProtocol.FLAG_NO_ZEROES) != 0;
    }
}
