package io.basalt.service.engine;

/** A map change was cancelled before the engine started it: nothing changed, and nothing will. */
public final class ControlCancelledException extends RuntimeException {
    public ControlCancelledException(String message) {
        super(message);
    }
}
