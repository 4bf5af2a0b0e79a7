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
    FAILED;

    public boolean ok() {
        return this == OK;
    }
}
