package io.basalt.service.engine.drive;

import java.io.IOException;

/** Small files that are replaced as a whole: a crash leaves the old content or the new, never a mix. */
public interface MetadataFiles {
    /** The content of {@code name}; null if there is no such file. */
    byte[] read(String name) throws IOException;

    /** Replaces {@code name}; durable when this returns. One caller per name at a time. */
    void replace(String name, byte[] content) throws IOException;
}
