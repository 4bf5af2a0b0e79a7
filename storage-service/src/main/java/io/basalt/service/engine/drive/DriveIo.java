package io.basalt.service.engine.drive;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The raw storage of one drive: everything the engine does to a drive goes through these calls, so a
 * test can put a drive that loses unsynced writes like a power cut in its place.
 */
public interface DriveIo extends Closeable {
    /** Bytes the drive holds. */
    long size() throws IOException;

    /** Fills {@code destination} from {@code position}; any thread. */
    void read(ByteBuffer destination, long position) throws IOException;

    /**
     * Fills {@code destination} from {@code position} only if that needs no wait for the device (the
     * bytes are in memory); returns false otherwise, with {@code destination}'s content unspecified and
     * its position unchanged. Drives that cannot tell always return false; any thread.
     */
    default boolean readCached(ByteBuffer destination, long position) {
        return false;
    }

    /**
     * Writes the parts one after another from {@code position}. The log writer and the checkpoint thread
     * may call it at once (for different segments); each call is applied whole.
     */
    void write(ByteBuffer[] parts, long position) throws IOException;

    /**
     * Makes every completed write durable. After a failure nothing is known about the writes since
     * the last successful sync, and a later successful sync does not bring them back.
     */
    void sync() throws IOException;

    /**
     * Throws if the storage behind this drive is no longer the one opened, although reads and writes
     * through it still succeed: a drive file truncated (its later writes would extend it again and the
     * lost bytes read back as zeros), or removed or replaced under the node (writes would go to a file
     * nobody finds again). Costs a few system calls, no device I/O; any thread but the event loops.
     */
    default void checkPresent() throws IOException {
    }
}
