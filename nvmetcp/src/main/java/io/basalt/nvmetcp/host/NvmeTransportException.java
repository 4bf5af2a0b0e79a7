package io.basalt.nvmetcp.host;

import java.io.IOException;

/** A queue's connection failed: closed, terminated by either side, or timed out while being set up. */
public final class NvmeTransportException extends IOException {
    public NvmeTransportException(String message) {
        super(message);
    }

    public NvmeTransportException(String message, Throwable cause) {
        super(message, cause);
    }
}
