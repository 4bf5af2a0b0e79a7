package io.basalt.service.engine.drive;

import java.io.IOException;
import java.io.InputStream;

/**
 * Files in the node's data directory that the engine reads: only the checkpoint file of drive format 2,
 * which a node upgraded from it reads once and deletes once its checkpoints are on its drives.
 */
public interface MetadataFiles {
    /** The content of {@code name}, to be closed by the caller; null if there is no such file. */
    InputStream read(String name) throws IOException;

    /** Deletes {@code name} if it exists; durable when this returns. */
    void delete(String name) throws IOException;
}
