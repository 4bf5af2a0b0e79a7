package io.basalt.service.engine.drive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Where a node's state lives: its drives and the small metadata files next to them. {@link FileMedia}
 * is the real one; tests substitute media that fail or lose power.
 */
public interface NodeMedia extends AutoCloseable {
    /** The drive at {@code path}; null if nothing is there. */
    DriveIo open(Path path) throws IOException;

    /**
     * Creates a drive of {@code bytes} at {@code path} whose first bytes are {@code head}: its space is
     * reserved up front and it appears at {@code path} only once {@code head} is durable, so a drive
     * found at a path is one this node finished creating or one somebody else put there.
     */
    DriveIo create(Path path, long bytes, ByteBuffer head) throws IOException;

    /** Small files replaced atomically, kept in {@code directory}. */
    MetadataFiles metadata(Path directory);

    /** Releases what the media holds in this process (memory drives' memory), after its engines closed. */
    @Override
    default void close() {
    }
}
