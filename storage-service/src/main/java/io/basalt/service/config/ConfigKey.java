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
    VOLUME_BLOCK_SIZE("volume.block-size", "512");

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
