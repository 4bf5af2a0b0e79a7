package io.basalt.attach;

import java.util.ArrayDeque;
import java.util.Deque;

/** The undo steps of a half-done attach, run newest first so each undoes on top of what still stands. */
final class Rollback {
    interface Step {
        void undo() throws AttachException;
    }

    private final Deque<Step> steps = new ArrayDeque<>();

    void add(Step step) {
        steps.push(step);
    }

    /** Runs every step even when some fail; their failures travel as suppressed exceptions of the original one. */
    void undoAll(Exception cause) {
        while (!steps.isEmpty()) {
            try {
                steps.pop().undo();
            } catch (AttachException | RuntimeException e) {
                cause.addSuppressed(e);
            }
        }
    }
}
