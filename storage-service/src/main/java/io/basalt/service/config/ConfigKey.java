package io.basalt.service.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** Every configuration key the service understands, with its built-in default. */
public enum ConfigKey {
    DATA_DIR("data.dir", "./data",
            "data directory: registry, engine checkpoint, generated API token, default drive (created if missing)"),
    NVME_BIND("nvme.bind", "127.0.0.1", "address the NVMe/TCP ports listen on; 0.0.0.0 for every IPv4 address"),
    NVME_PORT("nvme.port", "4420", "NVMe/TCP port for I/O (and discovery)"),
    NVME_DISCOVERY_PORT("nvme.discovery-port", "8009", "NVMe/TCP port that serves only the discovery controller"),
    NVME_ADVERTISED_ADDRESS("nvme.advertised-address", null, "the value of nvme.bind",
            "address hosts are told to connect to (discovery log, the API's portals); required when nvme.bind is a wildcard"),
    API_BIND("api.bind", "127.0.0.1", "address of the HTTP volume API and metrics"),
    API_PORT("api.port", "8470", "port of the HTTP volume API and metrics"),
    NVME_MAX_IO_QUEUES("nvme.max-io-queues", "16", "I/O queues a host may create per controller (1 to 65534)"),
    NVME_MAX_QUEUE_SIZE("nvme.max-queue-size", "128", "entries per I/O queue (2 to 1024)"),
    /* The defaults of the next six are io.basalt.nvmetcp.nvmet.ResourceLimits.defaults(). */
    NVME_CONNECTION_DATA_BYTES("nvme.connection-data-bytes", "8MiB",
            "write and read data one connection may hold in flight; R2Ts wait beyond it"),
    NVME_NODE_DATA_BYTES("nvme.node-data-bytes", "256MiB", "write and read data all connections together may hold in flight"),
    NVME_CONNECTIONS_PER_HOST("nvme.connections-per-host", "64", "TCP connections one host address may open"),
    NVME_CONNECTIONS_PER_NODE("nvme.connections-per-node", "1024", "TCP connections the node accepts in all"),
    NVME_CONNECT_TIMEOUT_MS("nvme.connect-timeout-ms", "10000", "time a new connection has to complete ICReq and Connect"),
    NVME_DATA_TIMEOUT_MS("nvme.data-timeout-ms", "10000", "time a host has to send the data an R2T asked for"),
    VOLUME_BLOCK_SIZE("volume.block-size", "4096", "logical block size of volumes created from now on: 512 or 4096"),
    VOLUME_COMPRESSION("volume.compression", "false", "whether a volume is LZ4-compressed when its create request does not say"),
    ENGINE_DRIVES("engine.drives", "", "none: one file <data>/drives/drive0.img",
            "comma-separated block devices or files the engine owns, in a fixed order; memory:SIZE for one drive "
                    + "of SIZE in memory (benchmarks, tests: nothing survives the process)"),
    ENGINE_DRIVE_SIZE("engine.drive-size", "16GiB", "size of a drive file the node creates (preallocated)"),
    ENGINE_SEGMENT_SIZE("engine.segment-size", "4MiB", "log segment size, a power of two from 2MiB to 16MiB; fixed when a drive is formatted"),
    ENGINE_ERASURE_CODE("engine.erasure-code", null, "none for 1-2 drives, 2+1 for 3-5, 4+2 for 6 or more",
            "k+m (k 2, 4 or 8; m 1-4) or none: Reed-Solomon stripes across the drives of a new node; an existing "
                    + "node keeps its drives' layout (see docs/storage-engine.md, Stripe layout)"),
    ENGINE_SYNC_EVERY_WRITE("engine.sync-every-write", "false", "make every write durable before acknowledging it"),
    ENGINE_FORMAT_DRIVES("engine.format-drives", "false",
            "format configured drives that exist and are blank (first 4 KiB zero), e.g. new block devices"),
    ENGINE_MAX_OVERSUBSCRIPTION("engine.max-oversubscription", "10", "provisioned volume sizes may reach capacity times this"),
    ENGINE_CHECKPOINT_BYTES("engine.checkpoint-bytes", "256MiB", "log written between checkpoints (bounds recovery time)"),
    ENGINE_CHECKPOINT_SECONDS("engine.checkpoint-seconds", "30", "longest time between checkpoints while anything is written"),
    ENGINE_REBUILD_BYTES_PER_SECOND("engine.rebuild-bytes-per-second", "64MiB",
            "most bytes per second a replaced drive is rebuilt at, so host I/O keeps most of the drives' throughput"),
    ENGINE_THROTTLE_SECONDS("engine.throttle-seconds", "10", "longest a write waits for garbage collection before failing"),
    ENGINE_SCRUB_BYTES_PER_SECOND("engine.scrub-bytes-per-second", null, "off",
            "rate of the background scrub (e.g. 32MiB), which checks every sealed segment and repairs damaged "
                    + "chunks from erasure coding (see docs/storage-engine.md, Scrub)"),
    API_ADMIN_TOKEN("api.admin-token", null, "generated once into <data>/api-admin-token",
            "the admin bearer token"),
    API_PROJECT_TOKENS("api.project-tokens", "", "none", "per-project bearer tokens: project=token,project2=token2"),
    API_TLS_CERT("api.tls-cert", null, "none: plain HTTP", "PEM certificate chain; HTTPS only when it and api.tls-key are set"),
    API_TLS_KEY("api.tls-key", null, "none: plain HTTP", "PEM private key of api.tls-cert"),
    CLUSTER_ETCD_ENDPOINTS("cluster.etcd-endpoints", "", "none: the node runs alone",
            "comma-separated etcd client URLs (http://host:2379); when set the node joins the cluster cluster.name"),
    CLUSTER_NAME("cluster.name", "basalt", "the cluster's name, the etcd prefix /basalt/<name>/ its keys live under"),
    CLUSTER_FAILURE_DOMAIN("cluster.failure-domain", null, "the host's name",
            "what fails together with this node (a rack, a host): replicas go to distinct failure domains"),
    CLUSTER_LEASE_TTL_SECONDS("cluster.lease-ttl-seconds", "4",
            "how long the node stays a live member after its last keep-alive reached etcd (2 to 3600)"),
    CLUSTER_CAPACITY_REFRESH_SECONDS("cluster.capacity-refresh-seconds", "10", "how often the node publishes its capacity to etcd"),
    CLUSTER_FAILBACK("cluster.failback", "true", "whether a replicated volume's primary gives the volume back to its "
            + "preferred copy (the first node placement chose) once that copy is in sync again after a failover"),
    NODE_WARMUP_SECONDS("node.warmup-seconds", "0", "seconds of synthetic I/O over loopback, on a scratch engine on a "
            + "drive of the node's kind, before the node listens, so its data path is compiled when hosts come "
            + "(0: none; at most 60)");

    public static final String ENV_PREFIX = "BASALT_";

    private final String key;
    private final String defaultValue;
    private final String defaultForHumans;
    private final String description;

    ConfigKey(String key, String defaultValue, String description) {
        this(key, defaultValue, defaultValue, description);
    }

    /** For keys whose default is not a value of its own ({@code defaultValue} null or empty). */
    ConfigKey(String key, String defaultValue, String defaultForHumans, String description) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.defaultForHumans = defaultForHumans;
        this.description = description;
    }

    public String key() {
        return key;
    }

    /** The built-in default, or null when the key has none of its own. */
    public String defaultValue() {
        return defaultValue;
    }

    /** What the key sets, for {@code --help}. */
    public String description() {
        return description;
    }

    /** The default as an operator reads it: the value, or what happens without one. */
    public String defaultForHumans() {
        return defaultForHumans;
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
