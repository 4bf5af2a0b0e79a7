package io.basalt.service.engine;

/**
 * How a block operation of the engine ended, in the engine's own terms. The service maps these to
 * NVMe status codes in one place (the data-plane volume layer); nothing in the engine knows NVMe.
 */
public enum IoResult {
    /** Done; for a write with FUA or a flush, also durable. */
    OK,
    /** The range lies outside the volume. */
    OUT_OF_RANGE,
    /** The map is a snapshot: it cannot be written. */
    READ_ONLY,
    /** No space is left on the node's drives, even after waiting for garbage collection. */
    NO_SPACE,
    /** A stored block failed its checksum or could not be read: its data is lost. */
    MEDIA_ERROR,
    /** The map was deleted. */
    GONE,
    /**
     * The engine stopped acknowledging writes after a write or sync error on a drive (fail-stop), or
     * is closing; nothing of this operation can be relied on.
     */
    FAILED,
    /**
     * This copy may not take or acknowledge writes now: it is not, or no longer surely, the one that
     * serves the volume (a replicated volume's primary that lost its lease or was deposed). Nothing of
     * the operation was acknowledged; another copy of the volume may serve it.
     */
    FENCED;

    public boolean ok() {
        return this == OK;
    }
}
