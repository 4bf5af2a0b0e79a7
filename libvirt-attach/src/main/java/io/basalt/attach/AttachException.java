package io.basalt.attach;

/** Attaching or detaching a volume failed; the message names the step and the cause. */
public class AttachException extends Exception {
    public AttachException(String message) {
        super(message);
    }

    public AttachException(String message, Throwable cause) {
        super(message, cause);
    }
}
