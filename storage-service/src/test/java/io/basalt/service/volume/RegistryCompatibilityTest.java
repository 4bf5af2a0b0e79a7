package io.basalt.service.volume;

import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Qos;
import io.basalt.service.dataplane.QosLimits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Registries written before a field existed still load, with the field's default. Without the
 * normalisation in VolumeRecord this failed: the registry's mapper refuses null for a primitive.
 */
class RegistryCompatibilityTest {
    @TempDir
    Path dataDir;

    @Test
    void volumeWithoutTheAuthenticationFlagDoesNotRequireIt() throws IOException {
        RegistryContent content = oneVolumeRegistryWithout("requireAuthentication", ",\\s*\"requireAuthentication\"\\s*:\\s*false");
        assertFalse(content.volumes().get(0).requireAuthentication());
    }

    /** Written before QoS existed: no "qos" object at all, read as unlimited. */
    @Test
    void volumeWithoutQosIsUnlimited() throws IOException {
        RegistryContent content = oneVolumeRegistryWithout("qos", ",\\s*\"qos\"\\s*:\\s*\\{[^}]*}");
        assertEquals(QosLimits.UNLIMITED, content.volumes().get(0).qos());
        try (ManagerHarness node = new ManagerHarness(dataDir)) {
            assertEquals(Qos.UNLIMITED, node.open().list(ManagerHarness.PROJECT, "old").get(0).qos());
        }
    }

    /** A registry of one volume as this release writes it, less what {@code field} matches, read back. */
    private RegistryContent oneVolumeRegistryWithout(String field, String pattern) throws IOException {
        try (ManagerHarness node = new ManagerHarness(dataDir)) {
            node.open().create(ManagerHarness.PROJECT, new CreateVolumeRequest("old", 1 << 20, List.of()));
        }
        Path registry = dataDir.resolve(VolumeRegistry.FILE_NAME);
        String older = Files.readString(registry).replaceAll(pattern, "");
        assertFalse(older.contains(field), older);
        Files.writeString(registry, older);
        return VolumeRegistry.in(dataDir).loadOrCreate();
    }
}
