package io.basalt.service.engine;

import io.basalt.service.engine.log.LogOp;

/**
 * Completion of one block operation. Called exactly once, on an engine thread (or on the caller's
 * thread when the operation ends before reaching one), never while an engine lock is held; it must
 * not block.
 */
@FunctionalInterface
public interface IoCompletion {
    void done(IoResult result);

    /**
     * The write operation kept with this completion by {@link #keepWrite}, or null. A completion that
     * serves one command at a time, command after command (the target's, one per command slot), keeps
     * the log writer's operation so that the engine refills it rather than making one per write.
     */
    default LogOp.HostWrite keptWrite() {
        return null;
    }

    /** Keeps {@code write} for this completion's next write; a completion made for one operation ignores it. */
    default void keepWrite(LogOp.HostWrite write) {
    }
}
