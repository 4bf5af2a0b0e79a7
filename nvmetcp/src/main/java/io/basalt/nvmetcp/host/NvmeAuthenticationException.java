package io.basalt.nvmetcp.host;

import java.io.IOException;

/**
 * In-band authentication failed: the controller requires it and the host has no secret, or one side
 * did not accept the other's response. Retrying with the same secrets fails the same way.
 */
public final class NvmeAuthenticationException extends IOException {
    public NvmeAuthenticationException(String message) {
        super(message);
    }
}
