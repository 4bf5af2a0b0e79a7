package io.basalt.nvmetcp.auth;

/**
 * An authentication transaction failed; {@link #reason()} is the failure reason code explanation the
 * Failure1 or Failure2 message carries.
 */
public final class AuthenticationException extends Exception {
    private final int reason;

    public AuthenticationException(int reason, String message) {
        super(message);
        this.reason = reason;
    }

    public int reason() {
        return reason;
    }
}
