package io.basalt.service.files;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class AtomicFilesTest {
    @Test
    void replacesTheContentAndLeavesNoTempFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("registry.json");
        AtomicFiles.write(file, "old".getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(file, "new".getBytes(StandardCharsets.UTF_8));
        assertEquals("new", Files.readString(file));
        assertFalse(Files.exists(dir.resolve("registry.json.tmp")));
    }

    /**
     * A crash between creating the temp file and renaming it leaves the temp behind with whatever
     * permissions it had; a secret written over it must still be readable by its owner only.
     * Fails when the temp file is reused (opened with CREATE rather than deleted and created anew).
     */
    @Test
    void aSecretIsOwnerOnlyEvenOverATempFileLeftByACrash(@TempDir Path dir) throws Exception {
        Path stale = dir.resolve("api-admin-token.tmp");
        Files.writeString(stale, "half a tok");
        Files.setPosixFilePermissions(stale, PosixFilePermissions.fromString("rw-r--r--"));

        Path file = dir.resolve("api-admin-token");
        AtomicFiles.writeOwnerOnly(file, "secret\n".getBytes(StandardCharsets.US_ASCII));

        assertEquals("secret\n", Files.readString(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertFalse(Files.exists(stale));
    }
}
