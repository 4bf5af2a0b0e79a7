package io.basalt.service.engine;

/**
 * Completion of one block operation. Called exactly once, on an engine thread (or on the caller's
 * thread when the operation ends before reaching one), never while an engine lock is held; it must
 * not block.
 */
@FunctionalInterface
public interface IoCompletion {
    void done(IoResult result);
}
