package io.basalt.service.config;

import io.basalt.nvmetcp.target.TargetOptions;
import org.apache.commons.configuration2.ImmutableConfiguration;

import java.nio.file.Path;
import java.util.Set;

/**
 * The service's settings, typed and checked. Built by {@link ConfigLoader}; every bad value is
 * reported with the key that holds it.
 *
 * @param dataDir           where the registry and volume images live
 * @param nvmeBind          address the NVMe/TCP I/O and discovery ports listen on
 * @param nvmePort          NVMe/TCP I/O port (0 picks a free port)
 * @param discoveryPort     NVMe/TCP discovery-only port (0 picks a free port)
 * @param advertisedAddress address hosts are told to dial
 * @param apiBind           address of the HTTP volume API and metrics
 * @param apiPort           port of the HTTP volume API and metrics (0 picks a free port)
 * @param maxIoQueues       I/O queues a controller may create
 * @param maxQueueSize      entries per I/O queue
 * @param blockSize         logical block size of new volumes
 */
public record BasaltConfig(Path dataDir, String nvmeBind, int nvmePort, int discoveryPort, String advertisedAddress,
                           String apiBind, int apiPort, int maxIoQueues, int maxQueueSize, int blockSize) {

    private static final Set<Integer> BLOCK_SIZES = Set.of(512, 4096);
    private static final Set<String> WILDCARD_ADDRESSES = Set.of("0.0.0.0", "::", "[::]");

    public BasaltConfig {
        if (!BLOCK_SIZES.contains(blockSize)) {
            throw new ConfigException(ConfigKey.VOLUME_BLOCK_SIZE.key() + " must be 512 or 4096, not " + blockSize);
        }
        if (WILDCARD_ADDRESSES.contains(advertisedAddress)) {
            throw new ConfigException(ConfigKey.NVME_ADVERTISED_ADDRESS.key() + " must be an address hosts can dial, not "
                    + advertisedAddress + "; set it when " + ConfigKey.NVME_BIND.key() + " is a wildcard address");
        }
        try {
            targetOptions(maxIoQueues, maxQueueSize, "config-check");
        } catch (IllegalArgumentException e) {
            throw new ConfigException(ConfigKey.NVME_MAX_IO_QUEUES.key() + "=" + maxIoQueues + " or "
                    + ConfigKey.NVME_MAX_QUEUE_SIZE.key() + "=" + maxQueueSize + " is out of range: " + e.getMessage(), e);
        }
    }

    /** Reads and checks every key of {@code config}. */
    public static BasaltConfig from(ImmutableConfiguration config) {
        String nvmeBind = address(config, ConfigKey.NVME_BIND);
        String advertised = config.containsKey(ConfigKey.NVME_ADVERTISED_ADDRESS.key())
                ? address(config, ConfigKey.NVME_ADVERTISED_ADDRESS) : nvmeBind;
        return new BasaltConfig(
                Path.of(required(config, ConfigKey.DATA_DIR)),
                nvmeBind,
                port(config, ConfigKey.NVME_PORT),
                port(config, ConfigKey.NVME_DISCOVERY_PORT),
                advertised,
                address(config, ConfigKey.API_BIND),
                port(config, ConfigKey.API_PORT),
                integer(config, ConfigKey.NVME_MAX_IO_QUEUES),
                integer(config, ConfigKey.NVME_MAX_QUEUE_SIZE),
                integer(config, ConfigKey.VOLUME_BLOCK_SIZE));
    }

    /** The target's limits with the configured queue settings. */
    public TargetOptions targetOptions(String serial) {
        return targetOptions(maxIoQueues, maxQueueSize, serial);
    }

    /** Static so that the constructor can check the settings before the fields are assigned. */
    private static TargetOptions targetOptions(int maxIoQueues, int maxQueueSize, String serial) {
        TargetOptions defaults = TargetOptions.defaults(serial);
        return new TargetOptions(maxIoQueues, maxQueueSize, defaults.inCapsuleDataSize(), defaults.maxH2CData(),
                defaults.maxTransferSize(), serial);
    }

    private static String required(ImmutableConfiguration config, ConfigKey key) {
        String value = config.getString(key.key());
        if (value == null || value.isBlank()) {
            throw new ConfigException(key.key() + " must not be empty");
        }
        return value.trim();
    }

    private static String address(ImmutableConfiguration config, ConfigKey key) {
        String value = required(config, key);
        if (value.chars().anyMatch(Character::isWhitespace)) {
            throw new ConfigException(key.key() + " must be a host name or IP address, not '" + value + "'");
        }
        return value;
    }

    private static int port(ImmutableConfiguration config, ConfigKey key) {
        int port = integer(config, key);
        if (port < 0 || port > 65535) {
            throw new ConfigException(key.key() + " must be a TCP port between 0 and 65535, not " + port);
        }
        return port;
    }

    private static int integer(ImmutableConfiguration config, ConfigKey key) {
        String value = required(config, key);
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new ConfigException(key.key() + " must be an integer, not '" + value + "'", e);
        }
    }
}
