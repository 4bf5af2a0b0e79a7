package io.basalt.service;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminTokenTest {
    /**
     * The token now goes through AtomicFiles (fsync, rename, fsync the directory); a power cut is
     * beyond a unit test, so this checks what the move must keep: a stale temp file from a crash is
     * replaced, the token is owner-only, and later starts read it back.
     */
    @Test
    void generatesAnOwnerOnlyTokenOnceAndReadsItBack(@TempDir Path dataDir) throws Exception {
        Path stale = dataDir.resolve(AdminToken.FILE_NAME + ".tmp");
        Files.writeString(stale, "");
        Files.setPosixFilePermissions(stale, PosixFilePermissions.fromString("rw-r--r--"));

        String token = AdminToken.inDataDir(dataDir);

        assertTrue(token.matches("[0-9a-f]{64}"), token);
        Path file = dataDir.resolve(AdminToken.FILE_NAME);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertFalse(Files.exists(stale));
        assertEquals(token, AdminToken.inDataDir(dataDir), "read back, not generated again");
    }
}
