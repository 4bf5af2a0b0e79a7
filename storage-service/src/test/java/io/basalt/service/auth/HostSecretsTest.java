package io.basalt.service.auth;

import io.basalt.bridge.InvalidVolumeRequestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostSecretsTest {
    private static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:8b3e5c2a-1f4d-4e6a-9b7c-0d2e4f6a8b1c";
    private static final String SECRET = "DHHC-1:01:bHuByyp0b3RFSx1xQPMVO1HKmUWfzveoahfydpW4fNgSLMVm:";
    private static final String CTRL = "DHHC-1:00:iIUAnmnqGpUWVsXpOuB0Fx+lwU0tgouGmxPqXYf8bMmdqnRi:";

    @TempDir
    Path dataDir;

    @Test
    void secretsAreStoredPrivatelyAndSurviveARestart() throws IOException {
        HostSecrets secrets = HostSecrets.open(dataDir);
        AtomicInteger changes = new AtomicInteger();
        secrets.onChange(changes::incrementAndGet);
        assertTrue(secrets.setSecrets(HOST, SECRET, CTRL).bidirectional());
        Path file = dataDir.resolve(HostSecrets.FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(1, changes.get());

        HostSecrets reopened = HostSecrets.open(dataDir);
        assertTrue(reopened.has(HOST));
        assertEquals(SECRET, reopened.credentials(HOST).hostKey().encode());
        assertEquals(CTRL, reopened.credentials(HOST).controllerKey().encode());

        assertTrue(reopened.removeSecrets(HOST));
        assertFalse(reopened.removeSecrets(HOST));
        assertNull(HostSecrets.open(dataDir).credentials(HOST));
        assertFalse(Files.readString(file).contains("DHHC-1"));
    }

    @Test
    void aFileOthersCouldReadIsMadePrivate() throws IOException {
        HostSecrets.open(dataDir).setSecrets(HOST, SECRET, null);
        Path file = dataDir.resolve(HostSecrets.FILE);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertTrue(HostSecrets.open(dataDir).has(HOST));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void malformedSecretsAreRefusedWithoutEchoAndChangeNothing() throws IOException {
        HostSecrets secrets = HostSecrets.open(dataDir);
        String badCrc = SECRET.replace("LMVm", "LMVn");
        InvalidVolumeRequestException e = assertThrows(InvalidVolumeRequestException.class,
                () -> secrets.setSecrets(HOST, badCrc, null));
        assertEquals("hostSecret", e.field());
        assertFalse(e.getMessage().contains("bHuByyp0"), e.getMessage());
        assertEquals("controllerSecret", assertThrows(InvalidVolumeRequestException.class,
                () -> secrets.setSecrets(HOST, SECRET, "secret")).field());
        assertFalse(secrets.has(HOST));
        assertFalse(Files.exists(dataDir.resolve(HostSecrets.FILE)));
    }
}
