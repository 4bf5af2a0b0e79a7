package io.basalt.service.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    @Test
    void defaultsApplyWithNothingGiven() {
        BasaltConfig config = ConfigLoader.load(List.of(), Map.of());
        assertEquals(new BasaltConfig(Path.of("./data"), "127.0.0.1", 4420, 8009, "127.0.0.1", "127.0.0.1", 8470,
                16, 128, 512), config);
    }

    @Test
    void commandLineBeatsEnvironmentBeatsFileBeatsDefaults() throws IOException {
        Path file = properties("nvme.port=1001", "api.port=1002", "nvme.discovery-port=1003", "api.bind=10.0.0.3");
        Map<String, String> env = Map.of("BASALT_NVME_PORT", "2001", "BASALT_API_PORT", "2002");

        BasaltConfig config = ConfigLoader.load(List.of("--config", file.toString(), "--nvme.port=3001"), env);

        assertEquals(3001, config.nvmePort(), "command line over environment");
        assertEquals(2002, config.apiPort(), "environment over file");
        assertEquals(1003, config.discoveryPort(), "file over default");
        assertEquals("10.0.0.3", config.apiBind(), "file over default");
        assertEquals(16, config.maxIoQueues(), "default");
    }

    @Test
    void fileValuesMayReferToSystemPropertiesAndOtherKeys() throws IOException {
        Path file = properties("data.dir = ${sys:java.io.tmpdir}/basalt", "api.bind = ${nvme.bind}",
                "nvme.bind = 192.0.2.5");
        BasaltConfig config = ConfigLoader.load(List.of("--config", file.toString()), Map.of());
        assertEquals(Path.of(System.getProperty("java.io.tmpdir"), "basalt"), config.dataDir());
        assertEquals("192.0.2.5", config.apiBind());
    }

    @Test
    void environmentNamesAreUpperCaseWithUnderscores() {
        Map<String, String> env = Map.of(
                "BASALT_NVME_DISCOVERY_PORT", "9009",
                "BASALT_NVME_ADVERTISED_ADDRESS", "192.0.2.7",
                "BASALT_NVME_MAX_IO_QUEUES", "8",
                "BASALT_VOLUME_BLOCK_SIZE", "4096",
                "BASALT_DATA_DIR", "/srv/basalt");
        BasaltConfig config = ConfigLoader.load(List.of(), env);
        assertEquals(9009, config.discoveryPort());
        assertEquals("192.0.2.7", config.advertisedAddress());
        assertEquals(8, config.maxIoQueues());
        assertEquals(4096, config.blockSize());
        assertEquals(Path.of("/srv/basalt"), config.dataDir());
        assertEquals("BASALT_NVME_DISCOVERY_PORT", ConfigKey.NVME_DISCOVERY_PORT.environmentVariable());
    }

    @Test
    void unrelatedAndEmptyEnvironmentVariablesAreIgnored() {
        BasaltConfig config = ConfigLoader.load(List.of(),
                Map.of("BASALT_DIR", "/opt/stack/basalt", "BASALT_NVME_PORT", "", "HOME", "/root"));
        assertEquals(4420, config.nvmePort());
    }

    @Test
    void dataDirShorthandTakesASeparateOrAttachedValue() {
        assertEquals(Path.of("/a"), ConfigLoader.load(List.of("--data-dir", "/a"), Map.of()).dataDir());
        assertEquals(Path.of("/b"), ConfigLoader.load(List.of("--data-dir=/b"), Map.of()).dataDir());
        assertEquals(Path.of("/c"), ConfigLoader.load(List.of("--data.dir=/c"), Map.of()).dataDir());
    }

    @Test
    void configShorthandTakesASeparateOrAttachedValue() throws IOException {
        Path file = properties("api.port=9999");
        assertEquals(9999, ConfigLoader.load(List.of("--config", file.toString()), Map.of()).apiPort());
        assertEquals(9999, ConfigLoader.load(List.of("--config=" + file), Map.of()).apiPort());
    }

    @Test
    void advertisedAddressDefaultsToTheBindAddress() {
        BasaltConfig config = ConfigLoader.load(List.of("--nvme.bind=192.0.2.1"), Map.of());
        assertEquals("192.0.2.1", config.advertisedAddress());
        config = ConfigLoader.load(List.of("--nvme.bind=0.0.0.0", "--nvme.advertised-address=192.0.2.2"), Map.of());
        assertEquals("0.0.0.0", config.nvmeBind());
        assertEquals("192.0.2.2", config.advertisedAddress());
    }

    @Test
    void aWildcardBindNeedsAnAdvertisedAddress() {
        assertError("nvme.advertised-address", List.of("--nvme.bind=0.0.0.0"));
        assertError("nvme.advertised-address", List.of("--nvme.bind=::"));
    }

    @Test
    void unknownKeysAreStartupErrors() throws IOException {
        assertError("nvme.prot", List.of("--nvme.prot=1"));
        Path file = properties("nvme.port=4420", "api.prot=1");
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(List.of("--config", file.toString()), Map.of()));
        assertTrue(e.getMessage().contains("api.prot") && e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("api.port"), "lists the known keys: " + e.getMessage());
    }

    @Test
    void malformedCommandLinesAreErrors() {
        assertError("serve-now", List.of("serve-now"));
        assertError("--data-dir", List.of("--data-dir"));
        assertError("--config", List.of("--config"));
        assertError("--nvme.port=VALUE", List.of("--nvme.port", "4420"));
    }

    @Test
    void aMissingConfigFileIsAnError() {
        assertError("does-not-exist", List.of("--config", dir.resolve("does-not-exist").toString()));
    }

    @Test
    void badValuesNameTheirKey() {
        assertError("nvme.port must be an integer", List.of("--nvme.port=http"));
        assertError("api.port must be a TCP port", List.of("--api.port=70000"));
        assertError("nvme.discovery-port must be a TCP port", List.of("--nvme.discovery-port=-1"));
        assertError("volume.block-size must be 512 or 4096", List.of("--volume.block-size=1024"));
        assertError("nvme.max-io-queues", List.of("--nvme.max-io-queues=0"));
        assertError("nvme.max-queue-size", List.of("--nvme.max-queue-size=4096"));
        assertError("api.bind must not be empty", List.of("--api.bind="));
        assertError("nvme.bind must be a host name", List.of("--nvme.bind=a b"));
    }

    @Test
    void queueSettingsReachTheTargetOptions() {
        BasaltConfig config = ConfigLoader.load(List.of("--nvme.max-io-queues=4", "--nvme.max-queue-size=64"), Map.of());
        var options = config.targetOptions("SERIAL");
        assertEquals(4, options.maxIoQueues());
        assertEquals(64, options.maxQueueSize());
        assertEquals("SERIAL", options.serial());
    }

    private Path properties(String... lines) throws IOException {
        Path file = Files.createTempFile(dir, "basalt", ".properties");
        Files.write(file, List.of(lines));
        return file;
    }

    private static void assertError(String expected, List<String> args) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(args, Map.of()));
        assertTrue(e.getMessage().contains(expected), "'" + e.getMessage() + "' should mention '" + expected + "'");
    }
}
