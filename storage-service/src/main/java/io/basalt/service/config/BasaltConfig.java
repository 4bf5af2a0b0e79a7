package io.basalt.service.config;

import io.basalt.bridge.auth.ApiTokens;
import io.basalt.cluster.ClusterSettings;
import io.basalt.nvmetcp.nvmet.ResourceLimits;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.basalt.service.engine.ec.ErasureCode;
import org.apache.commons.configuration2.ImmutableConfiguration;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

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
 * @param targetLimits      what one host may hold of the node's memory and connections
 * @param blockSize         logical block size of new volumes
 * @param compression       whether new volumes are compressed unless the request says otherwise
 * @param engine            the storage engine's settings
 * @param apiSecurity       tokens and TLS of the volume API
 * @param cluster           how the node joins its cluster; empty when it runs alone (no etcd endpoints)
 * @param warmUpSeconds     how long the node drives its own data path before it listens (0: not at all)
 */
public record BasaltConfig(Path dataDir, String nvmeBind, int nvmePort, int discoveryPort, String advertisedAddress,
                           String apiBind, int apiPort, int maxIoQueues, int maxQueueSize, ResourceLimits targetLimits, int blockSize,
                           boolean compression, EngineSettings engine, ApiSecurity apiSecurity,
                           Optional<ClusterSettings> cluster, int warmUpSeconds) {
    /** {@code engine.drives=memory:SIZE}: one drive of SIZE in the process's memory (see {@link EngineSettings}). */
    static final String MEMORY_DRIVES = "memory:";


    private static final Set<Integer> BLOCK_SIZES = Set.of(512, 4096);
    private static final Set<String> WILDCARD_ADDRESSES = Set.of("0.0.0.0", "::", "[::]");

    /** A longer warm-up would only delay the start: the data path is compiled within seconds. */
    static final int MAX_WARMUP_SECONDS = 60;

    public BasaltConfig {
        if (warmUpSeconds < 0 || warmUpSeconds > MAX_WARMUP_SECONDS) {
            throw new ConfigException(ConfigKey.NODE_WARMUP_SECONDS.key() + " must be 0 to " + MAX_WARMUP_SECONDS
                    + ", not " + warmUpSeconds);
        }
        if (!BLOCK_SIZES.contains(blockSize)) {
            throw new ConfigException(ConfigKey.VOLUME_BLOCK_SIZE.key() + " must be 512 or 4096, not " + blockSize);
        }
        if (WILDCARD_ADDRESSES.contains(advertisedAddress)) {
            throw new ConfigException(ConfigKey.NVME_ADVERTISED_ADDRESS.key() + " must be an address hosts can dial, not "
                    + advertisedAddress + "; set it when " + ConfigKey.NVME_BIND.key() + " is a wildcard address");
        }
        try {
            targetOptions(maxIoQueues, maxQueueSize, targetLimits, "config-check");
        } catch (IllegalArgumentException e) {
            throw new ConfigException(ConfigKey.NVME_MAX_IO_QUEUES.key() + "=" + maxIoQueues + ", "
                    + ConfigKey.NVME_MAX_QUEUE_SIZE.key() + "=" + maxQueueSize + " or "
                    + ConfigKey.NVME_CONNECTION_DATA_BYTES.key() + "=" + targetLimits.connectionDataBytes()
                    + " is out of range: " + e.getMessage(), e);
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
                targetLimits(config),
                integer(config, ConfigKey.VOLUME_BLOCK_SIZE),
                bool(config, ConfigKey.VOLUME_COMPRESSION),
                engine(config),
                apiSecurity(config),
                cluster(config),
                integer(config, ConfigKey.NODE_WARMUP_SECONDS));
    }

    private static Optional<ClusterSettings> cluster(ImmutableConfiguration config) {
        Optional<String> endpoints = optional(config, ConfigKey.CLUSTER_ETCD_ENDPOINTS);
        if (endpoints.isEmpty()) {
            return Optional.empty();
        }
        List<URI> urls = new ArrayList<>();
        for (String endpoint : endpoints.get().split(",")) {
            if (!endpoint.isBlank()) {
                try {
                    urls.add(new URI(endpoint.trim()));
                } catch (URISyntaxException e) {
                    throw new ConfigException(ConfigKey.CLUSTER_ETCD_ENDPOINTS.key() + " holds '" + endpoint.trim()
                            + "', which is not a URL like http://127.0.0.1:2379", e);
                }
            }
        }
        String failureDomain = optional(config, ConfigKey.CLUSTER_FAILURE_DOMAIN).orElseGet(BasaltConfig::hostName);
        try {
            return Optional.of(new ClusterSettings(urls, required(config, ConfigKey.CLUSTER_NAME), failureDomain,
                    Duration.ofSeconds(positive(config, ConfigKey.CLUSTER_LEASE_TTL_SECONDS)),
                    Duration.ofSeconds(positive(config, ConfigKey.CLUSTER_CAPACITY_REFRESH_SECONDS)),
                    bool(config, ConfigKey.CLUSTER_FAILBACK)));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(ConfigKey.CLUSTER_ETCD_ENDPOINTS.key() + ", " + ConfigKey.CLUSTER_NAME.key() + ", "
                    + ConfigKey.CLUSTER_FAILURE_DOMAIN.key() + " or " + ConfigKey.CLUSTER_LEASE_TTL_SECONDS.key()
                    + ": " + e.getMessage(), e);
        }
    }

    /** The default failure domain: nodes on one host fail together. */
    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            throw new ConfigException("the host has no name to use as " + ConfigKey.CLUSTER_FAILURE_DOMAIN.key()
                    + ": set it", e);
        }
    }

    private static ResourceLimits targetLimits(ImmutableConfiguration config) {
        try {
            return new ResourceLimits(bytes(config, ConfigKey.NVME_CONNECTION_DATA_BYTES),
                    bytes(config, ConfigKey.NVME_NODE_DATA_BYTES),
                    (int) positive(config, ConfigKey.NVME_CONNECTIONS_PER_HOST),
                    (int) positive(config, ConfigKey.NVME_CONNECTIONS_PER_NODE),
                    positive(config, ConfigKey.NVME_CONNECT_TIMEOUT_MS),
                    positive(config, ConfigKey.NVME_DATA_TIMEOUT_MS));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("nvme.* limits: " + e.getMessage(), e);
        }
    }

    private static EngineSettings engine(ImmutableConfiguration config) {
        String driveList = optional(config, ConfigKey.ENGINE_DRIVES).orElse("").trim();
        long driveSize = bytes(config, ConfigKey.ENGINE_DRIVE_SIZE);
        boolean memory = driveList.startsWith(MEMORY_DRIVES);
        List<Path> drives = List.of();
        if (memory) {
            String size = driveList.substring(MEMORY_DRIVES.length());
            try {
                driveSize = ByteSize.parse(size);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(ConfigKey.ENGINE_DRIVES.key() + "=" + MEMORY_DRIVES
                        + "SIZE needs a size like 4GiB, not '" + size + "'", e);
            }
        } else {
            drives = Arrays.stream(driveList.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(Path::of)
                    .toList();
        }
        long segmentSize = bytes(config, ConfigKey.ENGINE_SEGMENT_SIZE);
        if (Long.bitCount(segmentSize) != 1 || segmentSize < (2 << 20) || segmentSize > (16 << 20)) {
            throw new ConfigException(ConfigKey.ENGINE_SEGMENT_SIZE.key() + " must be a power of two from 2MiB to 16MiB");
        }
        double ratio = decimal(config, ConfigKey.ENGINE_MAX_OVERSUBSCRIPTION);
        if (ratio < 1.0) {
            throw new ConfigException(ConfigKey.ENGINE_MAX_OVERSUBSCRIPTION.key() + " must be at least 1.0, not " + ratio);
        }
        return new EngineSettings(drives, driveSize, (int) segmentSize,
                bool(config, ConfigKey.ENGINE_SYNC_EVERY_WRITE), ratio, bytes(config, ConfigKey.ENGINE_CHECKPOINT_BYTES),
                positive(config, ConfigKey.ENGINE_CHECKPOINT_SECONDS), positive(config, ConfigKey.ENGINE_THROTTLE_SECONDS),
                bool(config, ConfigKey.ENGINE_FORMAT_DRIVES), memory, erasureCode(config),
                optional(config, ConfigKey.ENGINE_SCRUB_BYTES_PER_SECOND).isPresent()
                        ? bytes(config, ConfigKey.ENGINE_SCRUB_BYTES_PER_SECOND) : 0,
                bytes(config, ConfigKey.ENGINE_REBUILD_BYTES_PER_SECOND));
    }

    /** {@code engine.erasure-code}; null when not set (the engine's default for the drive count). */
    private static ErasureCode erasureCode(ImmutableConfiguration config) {
        try {
            return optional(config, ConfigKey.ENGINE_ERASURE_CODE).map(ErasureCode::parse).orElse(null);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(ConfigKey.ENGINE_ERASURE_CODE.key() + ": " + e.getMessage());
        }
    }

    private static ApiSecurity apiSecurity(ImmutableConfiguration config) {
        Map<String, String> projectTokens = new LinkedHashMap<>();
        for (String pair : optional(config, ConfigKey.API_PROJECT_TOKENS).orElse("").split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            int equals = pair.indexOf('=');
            if (equals <= 0 || equals == pair.length() - 1) {
                throw new ConfigException(ConfigKey.API_PROJECT_TOKENS.key() + " must look like project=token,project2=token2");
            }
            projectTokens.put(pair.substring(0, equals).trim(), pair.substring(equals + 1).trim());
        }
        String adminToken = optional(config, ConfigKey.API_ADMIN_TOKEN).orElse(null);
        try {
            ApiTokens.of(adminToken != null ? adminToken : UUID.randomUUID().toString(), projectTokens);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(ConfigKey.API_ADMIN_TOKEN.key() + " / " + ConfigKey.API_PROJECT_TOKENS.key()
                    + ": " + e.getMessage(), e);
        }
        return new ApiSecurity(adminToken, projectTokens,
                optional(config, ConfigKey.API_TLS_CERT).map(Path::of).orElse(null),
                optional(config, ConfigKey.API_TLS_KEY).map(Path::of).orElse(null));
    }

    private static Optional<String> optional(ImmutableConfiguration config, ConfigKey key) {
        String value = config.getString(key.key());
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }

    private static boolean bool(ImmutableConfiguration config, ConfigKey key) {
        String value = required(config, key);
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new ConfigException(key.key() + " must be true or false, not '" + value + "'");
        };
    }

    private static double decimal(ImmutableConfiguration config, ConfigKey key) {
        String value = required(config, key);
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new ConfigException(key.key() + " must be a number, not '" + value + "'", e);
        }
    }

    private static long positive(ImmutableConfiguration config, ConfigKey key) {
        int value = integer(config, key);
        if (value <= 0) {
            throw new ConfigException(key.key() + " must be positive, not " + value);
        }
        return value;
    }

    /** A size such as {@code 4096}, {@code 4KiB}, {@code 4MiB}, {@code 16GiB} or {@code 2TiB}. */
    private static long bytes(ImmutableConfiguration config, ConfigKey key) {
        String value = required(config, key);
        long result;
        try {
            result = ByteSize.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key.key() + " must be a size like 4096, 64MiB or 16GiB, not '" + value + "'", e);
        }
        if (result <= 0) {
            throw new ConfigException(key.key() + " must be positive, not " + value);
        }
        return result;
    }

    /** The address clients are told to reach the API at: {@link #apiBind}, or the advertised address for a wildcard. */
    public String advertisedApiAddress() {
        return WILDCARD_ADDRESSES.contains(apiBind) ? advertisedAddress : apiBind;
    }

    /** The target's limits with the configured queue settings. */
    public TargetOptions targetOptions(String serial) {
        return targetOptions(maxIoQueues, maxQueueSize, targetLimits, serial);
    }

    /** Static so that the constructor can check the settings before the fields are assigned. */
    private static TargetOptions targetOptions(int maxIoQueues, int maxQueueSize, ResourceLimits limits, String serial) {
        TargetOptions defaults = TargetOptions.defaults(serial);
        return new TargetOptions(maxIoQueues, maxQueueSize, defaults.inCapsuleDataSize(), defaults.maxH2CData(),
                defaults.maxTransferSize(), serial, limits);
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
