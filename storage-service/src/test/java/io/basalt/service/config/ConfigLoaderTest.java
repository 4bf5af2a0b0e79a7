package io.basalt.service.config;

import io.basalt.cluster.ClusterSettings;
import io.basalt.nvmetcp.nvmet.ResourceLimits;
import io.basalt.service.engine.EngineConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    @Test
    void defaultsApplyWithNothingGiven() {
        BasaltConfig config = ConfigLoader.load(List.of(), Map.of());
        assertEquals(new BasaltConfig(Path.of("./data"), "127.0.0.1", 4420, 8009, "127.0.0.1", "127.0.0.1", 8470,
                16, 128, ResourceLimits.defaults(), 4096, false,
                new EngineSettings(List.of(), 16L << 30, 4 << 20, false, 10.0, 256L << 20, 30, 10, false),
                new ApiSecurity(null, Map.of(), null, null), Optional.empty(), 0), config);
        assertFalse(config.apiSecurity().tls());
    }

    @Test
    void engineKeysTakeSizesWithUnits() {
        BasaltConfig config = ConfigLoader.load(List.of("--engine.drives=/dev/nvme1n1, /dev/nvme2n1",
                "--engine.drive-size=256MiB", "--engine.segment-size=2MiB", "--engine.sync-every-write=yes",
                "--engine.max-oversubscription=2.5", "--engine.checkpoint-bytes=1GiB",
                "--engine.checkpoint-seconds=5", "--engine.throttle-seconds=3", "--volume.compression=on"), Map.of());
        EngineSettings engine = config.engine();
        assertEquals(List.of(Path.of("/dev/nvme1n1"), Path.of("/dev/nvme2n1")), engine.drives());
        assertEquals(256L << 20, engine.driveSize());
        assertEquals(2 << 20, engine.segmentSize());
        assertTrue(engine.syncEveryWrite());
        assertEquals(2.5, engine.maxOversubscription());
        assertEquals(1L << 30, engine.checkpointBytes());
        assertEquals(5, engine.checkpointSeconds());
        assertEquals(3, engine.throttleSeconds());
        assertTrue(config.compression());

        assertEquals(4096, ConfigLoader.load(List.of("--engine.drive-size=4096"), Map.of()).engine().driveSize());
        assertEquals(8L << 10, ConfigLoader.load(List.of("--engine.drive-size=8KiB"), Map.of()).engine().driveSize());
        assertEquals(2L << 40, ConfigLoader.load(List.of("--engine.drive-size=2TiB"), Map.of()).engine().driveSize());
        assertEquals(16L << 20, ConfigLoader.load(List.of(), Map.of("BASALT_ENGINE_SEGMENT_SIZE", "16MiB"))
                .engine().segmentSize());
    }

    @Test
    void engineSettingsBecomeTheEngineConfig() {
        BasaltConfig config = ConfigLoader.load(List.of("--data-dir=/srv/basalt", "--engine.drive-size=256MiB",
                "--engine.segment-size=2MiB", "--engine.checkpoint-seconds=5", "--engine.throttle-seconds=3",
                "--engine.max-oversubscription=4"), Map.of());
        UUID node = UUID.randomUUID();
        EngineConfig engine = config.engine().engineConfig(config.dataDir(), node);
        assertEquals(List.of(Path.of("/srv/basalt/drives/drive0.img")), engine.drives(), "one file by default");
        assertEquals(256L << 20, engine.driveCreateBytes());
        assertEquals(Path.of("/srv/basalt/engine"), engine.metadataDir());
        assertEquals(node, engine.nodeId());
        assertEquals(2 << 20, engine.segmentSize());
        assertEquals(5000, engine.checkpointEveryMillis());
        assertEquals(3000, engine.throttleMillis());
        assertEquals(4.0, engine.maxOversubscription());

        config = ConfigLoader.load(List.of("--engine.drives=/dev/a,/dev/b"), Map.of());
        assertEquals(List.of(Path.of("/dev/a"), Path.of("/dev/b")),
                config.engine().engineConfig(Path.of("/x"), node).drives());
    }

    @Test
    void memoryDrivesTakeTheirSizeFromTheKey() {
        EngineSettings memory = ConfigLoader.load(List.of("--engine.drives=memory:2GiB"), Map.of()).engine();
        assertTrue(memory.memoryDrives());
        assertEquals(2L << 30, memory.driveSize());
        assertInstanceOf(io.basalt.service.engine.drive.MemoryMedia.class, memory.media());
        assertNotSame(memory.media(), memory.media(), "every node gets drives of its own");
        EngineSettings files = ConfigLoader.load(List.of(), Map.of()).engine();
        assertFalse(files.memoryDrives());
        assertSame(io.basalt.service.engine.drive.FileMedia.INSTANCE, files.media());
        assertError("engine.drives=memory:SIZE needs a size", List.of("--engine.drives=memory:lots"));
    }

    @Test
    void apiKeysGiveTokensAndTls() throws IOException {
        Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
        Path key = Files.writeString(dir.resolve("key.pem"), "x");
        BasaltConfig config = ConfigLoader.load(List.of("--api.admin-token=s3cret",
                "--api.project-tokens=alpha=ta, beta = tb", "--api.tls-cert=" + cert, "--api.tls-key=" + key), Map.of());
        ApiSecurity api = config.apiSecurity();
        assertEquals("s3cret", api.adminToken());
        assertEquals(Map.of("alpha", "ta", "beta", "tb"), api.projectTokens());
        assertEquals(cert, api.tlsCert());
        assertEquals(key, api.tlsKey());
        assertTrue(api.tls());

        api = ConfigLoader.load(List.of(), Map.of("BASALT_API_ADMIN_TOKEN", "from-env",
                "BASALT_API_PROJECT_TOKENS", "p=t")).apiSecurity();
        assertEquals("from-env", api.adminToken());
        assertEquals(Map.of("p", "t"), api.projectTokens());
        assertNull(ConfigLoader.load(List.of("--api.admin-token="), Map.of()).apiSecurity().adminToken(),
                "empty means generate one");
    }

    @Test
    void badEngineAndApiValuesNameTheirKey() {
        assertError("engine.drive-size must be a size", List.of("--engine.drive-size=lots"));
        assertError("engine.drive-size must be a size", List.of("--engine.drive-size=16GB"));
        assertError("engine.drive-size must be positive", List.of("--engine.drive-size=0"));
        assertError("engine.drive-size", List.of("--engine.drive-size=99999999TiB"));
        assertError("engine.checkpoint-bytes must be a size", List.of("--engine.checkpoint-bytes=1.5GiB"));
        assertError("engine.segment-size must be a power of two", List.of("--engine.segment-size=3MiB"));
        assertError("engine.segment-size must be a power of two", List.of("--engine.segment-size=1MiB"));
        assertError("engine.segment-size must be a power of two", List.of("--engine.segment-size=32MiB"));
        assertError("engine.sync-every-write must be true or false", List.of("--engine.sync-every-write=maybe"));
        assertError("volume.compression must be true or false", List.of("--volume.compression=lz4"));
        assertError("engine.max-oversubscription must be a number", List.of("--engine.max-oversubscription=x"));
        assertError("engine.max-oversubscription must be at least 1.0",
                List.of("--engine.max-oversubscription=0.5"));
        assertError("engine.checkpoint-seconds must be positive", List.of("--engine.checkpoint-seconds=0"));
        assertError("engine.throttle-seconds must be an integer", List.of("--engine.throttle-seconds=soon"));
        assertError("api.project-tokens must look like", List.of("--api.project-tokens=alpha"));
        assertError("api.project-tokens must look like", List.of("--api.project-tokens=alpha="));
        assertError("api.project-tokens must look like", List.of("--api.project-tokens==t"));
        assertError("api.tls-cert and api.tls-key must be set together", List.of("--api.tls-cert=/c.pem"));
        assertError("api.tls-cert and api.tls-key must be set together", List.of("--api.tls-key=/k.pem"));
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
                "BASALT_VOLUME_BLOCK_SIZE", "512",
                "BASALT_DATA_DIR", "/srv/basalt");
        BasaltConfig config = ConfigLoader.load(List.of(), env);
        assertEquals(9009, config.discoveryPort());
        assertEquals("192.0.2.7", config.advertisedAddress());
        assertEquals(8, config.maxIoQueues());
        assertEquals(512, config.blockSize());
        assertEquals(Path.of("/srv/basalt"), config.dataDir());
        assertEquals("BASALT_NVME_DISCOVERY_PORT", ConfigKey.NVME_DISCOVERY_PORT.environmentVariable());
        assertEquals("BASALT_ENGINE_MAX_OVERSUBSCRIPTION", ConfigKey.ENGINE_MAX_OVERSUBSCRIPTION.environmentVariable());
        assertEquals("BASALT_API_TLS_CERT", ConfigKey.API_TLS_CERT.environmentVariable());
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

    @Test
    void targetLimitsAreConfigurable() {
        BasaltConfig config = ConfigLoader.load(List.of("--nvme.connection-data-bytes=2MiB", "--nvme.node-data-bytes=64MiB",
                "--nvme.connections-per-host=8", "--nvme.connections-per-node=100", "--nvme.connect-timeout-ms=500",
                "--nvme.data-timeout-ms=700"), Map.of());
        assertEquals(new ResourceLimits(2 << 20, 64 << 20, 8, 100, 500, 700), config.targetOptions("S").limits());
        assertError("nvme.* limits", List.of("--nvme.connections-per-host=10", "--nvme.connections-per-node=5"));
        assertError("nvme.connection-data-bytes", List.of("--nvme.connection-data-bytes=64KiB"));
        assertError("nvme.data-timeout-ms must be positive", List.of("--nvme.data-timeout-ms=0"));
    }

    private Path properties(String... lines) throws IOException {
        Path file = Files.createTempFile(dir, "basalt", ".properties");
        Files.write(file, List.of(lines));
        return file;
    }

    @Test
    void clusterKeysMakeTheNodeJoinOnlyWithEtcdEndpoints() throws Exception {
        assertTrue(ConfigLoader.load(List.of("--cluster.name=prod", "--cluster.failure-domain=rack-1"), Map.of())
                .cluster().isEmpty(), "no etcd endpoints: the node runs alone whatever else is set");

        ClusterSettings cluster = ConfigLoader.load(List.of(
                "--cluster.etcd-endpoints=http://10.0.0.1:2379, http://10.0.0.2:2379", "--cluster.name=prod",
                "--cluster.failure-domain=rack-1", "--cluster.lease-ttl-seconds=5",
                "--cluster.capacity-refresh-seconds=20"), Map.of()).cluster().orElseThrow();
        assertEquals(new ClusterSettings(List.of(URI.create("http://10.0.0.1:2379"), URI.create("http://10.0.0.2:2379")),
                "prod", "rack-1", Duration.ofSeconds(5), Duration.ofSeconds(20)), cluster);

        ClusterSettings defaults = ConfigLoader.load(List.of(), Map.of("BASALT_CLUSTER_ETCD_ENDPOINTS",
                "http://127.0.0.1:2379")).cluster().orElseThrow();
        assertEquals("basalt", defaults.name());
        assertEquals(InetAddress.getLocalHost().getHostName(), defaults.failureDomain());
        assertEquals(Duration.ofSeconds(4), defaults.leaseTtl());

        assertError("cluster.etcd-endpoints", List.of("--cluster.etcd-endpoints=127.0.0.1:2379"));
        assertError("http://host:port", List.of("--cluster.etcd-endpoints=etcd:2379"));
        assertError("failure domain", List.of("--cluster.etcd-endpoints=http://127.0.0.1:2379",
                "--cluster.failure-domain=rack/1"));
        assertError("lease TTL", List.of("--cluster.etcd-endpoints=http://127.0.0.1:2379", "--cluster.lease-ttl-seconds=1"));
    }

    private static void assertError(String expected, List<String> args) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(args, Map.of()));
        assertTrue(e.getMessage().contains(expected), "'" + e.getMessage() + "' should mention '" + expected + "'");
    }
}
