package io.basalt.service.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** Every configuration key the service understands, with its built-in default. */
public enum ConfigKey {
    DATA_DIR("data.dir", "./data"),
    NVME_BIND("nvme.bind", "127.0.0.1"),
    NVME_PORT("nvme.port", "4420"),
    NVME_DISCOVERY_PORT("nvme.discovery-port", "8009"),
    /** No built-in default: it falls back to {@link #NVME_BIND}. */
    NVME_ADVERTISED_ADDRESS("nvme.advertised-address", null),
    API_BIND("api.bind", "127.0.0.1"),
    API_PORT("api.port", "8470"),
    NVME_MAX_IO_QUEUES("nvme.max-io-queues", "16"),
    NVME_MAX_QUEUE_SIZE("nvme.max-queue-size", "128"),
    /** The defaults of these six are {@link io.basalt.nvmetcp.nvmet.ResourceLimits#defaults()}. */
    NVME_CONNECTION_DATA_BYTES("nvme.connection-data-bytes", "8MiB"),
    NVME_NODE_DATA_BYTES("nvme.node-data-bytes", "256MiB"),
    NVME_CONNECTIONS_PER_HOST("nvme.connections-per-host", "64"),
    NVME_CONNECTIONS_PER_NODE("nvme.connections-per-node", "1024"),
    NVME_CONNECT_TIMEOUT_MS("nvme.connect-timeout-ms", "10000"),
    NVME_DATA_TIMEOUT_MS("nvme.data-timeout-ms", "10000"),
    VOLUME_BLOCK_SIZE("volume.block-size", "4096"),
    VOLUME_COMPRESSION("volume.compression", "false"),
    /** Comma-separated block devices or files; empty means one file under the data directory. */
    ENGINE_DRIVES("engine.drives", ""),
    ENGINE_DRIVE_SIZE("engine.drive-size", "16GiB"),
    ENGINE_SEGMENT_SIZE("engine.segment-size", "4MiB"),
    ENGINE_SYNC_EVERY_WRITE("engine.sync-every-write", "false"),
    ENGINE_MAX_OVERSUBSCRIPTION("engine.max-oversubscription", "10"),
    ENGINE_CHECKPOINT_BYTES("engine.checkpoint-bytes", "256MiB"),
    ENGINE_CHECKPOINT_SECONDS("engine.checkpoint-seconds", "30"),
    ENGINE_THROTTLE_SECONDS("engine.throttle-seconds", "10"),
    /** No built-in default: the node generates one into {@code <data>/api-admin-token}. */
    API_ADMIN_TOKEN("api.admin-token", null),
    /** {@code project=token,project2=token2}. */
    API_PROJECT_TOKENS("api.project-tokens", ""),
    /** PEM certificate chain and key; HTTPS when both are set. */
    API_TLS_CERT("api.tls-cert", null),
    API_TLS_KEY("api.tls-key", null);

    public static final String ENV_PREFIX = "BASALT_";

    private final String key;
    private final String defaultValue;

    ConfigKey(String key, String defaultValue) {
        this.key = key;
        this.defaultValue = defaultValue;
    }

    public String key() {
        return key;
    }

    /** The built-in default, or null when the key has none of its own. */
    public String defaultValue() {
        return defaultValue;
    }

    /** {@code nvme.discovery-port} is read from {@code BASALT_NVME_DISCOVERY_PORT}. */
    public String environmentVariable() {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    public static Optional<ConfigKey> of(String key) {
        return Arrays.stream(values()).filter(k -> k.key.equals(key)).findFirst();
    }

    static String knownKeys() {
        return String.join(", ", Arrays.stream(values()).map(ConfigKey::key).toList());
    }
}
