package io.basalt.nvmetcp.pdu;

/**
 * A fatal transport error: the connection is ended with a TermReq carrying {@link #fes()} and
 * {@link #fei()} (the byte offset of the offending field, where there is one).
 */
public final class PduException extends RuntimeException {
    private final int fes;
    private final int fei;

    public PduException(int fes, int fei, String message) {
        super(message, null, false, false);
        this.fes = fes;
        this.fei = fei;
    }

    public int fes() {
        return fes;
    }

    public int fei() {
        return fei;
    }
}
