package io.basalt.service;

/** The node could not start; the message says what to fix (a port in use, an unreadable data directory). */
public final class StartupException extends Exception {
    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
