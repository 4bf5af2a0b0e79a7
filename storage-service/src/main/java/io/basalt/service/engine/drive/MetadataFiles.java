package io.basalt.service.engine.drive;

import io.basalt.service.files.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;

/**
 * Metadata files that are replaced as a whole: a crash leaves the old content or the new, never a
 * mix. Streamed both ways, so a file's size is not bounded by an array's.
 */
public interface MetadataFiles {
    /** The content of {@code name}, to be closed by the caller; null if there is no such file. */
    InputStream read(String name) throws IOException;

    /** Replaces {@code name}; durable when this returns. One caller per name at a time. */
    void replace(String name, AtomicFiles.Content content) throws IOException;
}
