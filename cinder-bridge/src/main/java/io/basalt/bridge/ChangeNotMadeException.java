package io.basalt.bridge;

/**
 * The node could not carry out a change in time and cancelled it: nothing changed, and the request
 * may be sent again. (A change the node started is always finished before it answers.)
 */
public final class ChangeNotMadeException extends RuntimeException {
    public ChangeNotMadeException(String message, Throwable cause) {
        super(message, cause);
    }
}
