package io.basalt.bridge.client;

/** The volume API could not be reached or answered with an error; the message says which. */
public class VolumeApiException extends Exception {
    private final int status;

    public VolumeApiException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP status, or 0 when no answer came. */
    public int status() {
        return status;
    }
}
