package io.basalt.service;

import io.basalt.bridge.ClusterService;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.auth.ApiTokens;
import io.basalt.bridge.http.DriveRoutes;
import io.basalt.bridge.http.VolumeApi;
import io.basalt.cluster.ClusterException;
import io.basalt.nvmetcp.auth.DhchapPolicy;
import io.basalt.nvmetcp.nvmet.NvmeTarget;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.basalt.nvmetcp.nvmet.TargetPort;
import io.basalt.service.auth.HostSecrets;
import io.basalt.service.cluster.NodeCluster;
import io.basalt.service.config.BasaltConfig;
import io.basalt.service.engine.drive.NodeMedia;
import io.basalt.service.metrics.EngineGauges;
import io.basalt.service.metrics.RebuildGauges;
import io.basalt.service.volume.NodeDrives;
import io.basalt.service.metrics.NodeGauges;
import io.basalt.service.metrics.PrometheusEndpoint;
import io.basalt.service.metrics.VolumeIoMetrics;
import io.basalt.service.volume.NodeStore;
import io.basalt.service.volume.VolumeManager;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A running storage node: the volumes, the NVMe/TCP target serving them on the Vert.x event loops,
 * and the HTTP server with the volume API and metrics.
 */
public final class StorageNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StorageNode.class);
    private static final long STEP_TIMEOUT_SECONDS = 30;

    private final BasaltConfig config;
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile List<Portal> portals = List.of();
    /** The engine's drives: closed after the store, which frees memory drives. */
    private NodeMedia media;
    private NodeStore store;
    private volatile VolumeManager volumes;
    private ApiTokens tokens;
    private Vertx vertx;
    private NvmeTarget target;
    private HostSecrets hostSecrets;
    private HttpServer http;
    private InetSocketAddress nvmeAddress;
    private InetSocketAddress discoveryAddress;
    /** Empty when the node runs alone. */
    private Optional<NodeCluster> cluster = Optional.empty();

    private final WarmUp warmUp;
    /** In the data directory, for the warm-up's drive file, so that it is on the node's own file system. */
    static final String WARM_UP_DIRECTORY = "warm-up";

    /** How the node warms its data path up before it listens: {@link NodeWarmUp#run}, or a test's stand-in. */
    @FunctionalInterface
    interface WarmUp {
        NodeWarmUp.Outcome run(EventLoopGroup eventLoops, TargetOptions targetOptions, int ioQueues, Duration duration,
                               NodeMedia media, Path scratch);
    }

    private StorageNode(BasaltConfig config, WarmUp warmUp) {
        this.config = config;
        this.warmUp = warmUp;
    }

    /** Starts every part, or stops the parts already started and explains what failed. */
    public static StorageNode start(BasaltConfig config) throws StartupException {
        return start(config, NodeWarmUp::run);
    }

    static StorageNode start(BasaltConfig config, WarmUp warmUp) throws StartupException {
        StorageNode node = new StorageNode(config, warmUp);
        try {
            node.startParts();
        } catch (StartupException | RuntimeException e) {
            node.close();
            throw e;
        }
        return node;
    }

    public InetSocketAddress nvmeAddress() {
        return nvmeAddress;
    }

    public InetSocketAddress discoveryAddress() {
        return discoveryAddress;
    }

    public InetSocketAddress apiAddress() {
        return new InetSocketAddress(config.apiBind(), http.actualPort());
    }

    private void startParts() throws StartupException {
        try {
            media = config.engine().media();
            store = NodeStore.open(config.dataDir(), media,
                    nodeId -> config.engine().engineConfig(config.dataDir(), nodeId));
            volumes = VolumeManager.open(store, new VolumeManager.Defaults(config.blockSize(), config.compression()),
                    () -> portals,
                    new VolumeIoMetrics(metrics, id -> volumes == null ? 1.0 : volumes.compressionRatio(id),
                            id -> volumes == null ? 0 : volumes.throttledSeconds(id)));
            hostSecrets = HostSecrets.open(config.dataDir());
            volumes.authenticatingHosts(hostSecrets::has);
            hostSecrets.onChange(() -> volumes.authenticatingHosts(hostSecrets::has));
            tokens = ApiTokens.of(config.apiSecurity().adminToken() != null ? config.apiSecurity().adminToken()
                    : AdminToken.inDataDir(config.dataDir()), config.apiSecurity().projectTokens());
        } catch (IOException e) {
            throw new StartupException("cannot open data directory " + config.dataDir().toAbsolutePath()
                    + ": " + e.getMessage(), e);
        }
        // Native epoll when the platform has it; the target runs its connections on the same loops.
        // One event loop per core (Vert.x defaults to two): a queue pair stays on its loop, and the
        // NVMe/TCP target shares these loops with the API.
        vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
                .setEventLoopPoolSize(Runtime.getRuntime().availableProcessors()));
        EventLoopGroup eventLoops = ((VertxInternal) vertx).getEventLoopGroup();
        warmUp(eventLoops);
        target = new NvmeTarget(config.targetOptions(volumes.subsystem().serial()), eventLoops);
        target.addSubsystem(volumes.subsystem());
        target.authentication(hostSecrets::credentials, DhchapPolicy.defaults());
        nvmeAddress = await(target.listen(new TargetPort(config.nvmeBind(), config.nvmePort(),
                config.advertisedAddress(), false)), "listen for NVMe/TCP on " + config.nvmeBind() + ":" + config.nvmePort());
        discoveryAddress = await(target.listen(new TargetPort(config.nvmeBind(), config.discoveryPort(),
                config.advertisedAddress(), true)),
                "listen for NVMe/TCP discovery on " + config.nvmeBind() + ":" + config.discoveryPort());
        portals = List.of(new Portal("tcp", config.advertisedAddress(), nvmeAddress.getPort()));

        NodeGauges.register(metrics, target::connectionCount, target::queuePairCount, target::controllerCount,
                () -> volumes.volumeCount(), target::dataBytesInUse);
        EngineGauges.register(metrics, store.engine());
        if (config.engine().scrubBytesPerSecond() > 0) {
            store.engine().startScrub(config.engine().scrubBytesPerSecond());
        }
        RebuildGauges.register(metrics, store.engine());
        store.engine().rebuildBytesPerSecond(config.engine().rebuildBytesPerSecond());
        NodeGauges.registerAuthentication(metrics, target);
        cluster = config.cluster().map(NodeCluster::new);
        cluster.ifPresent(c -> c.registerMetrics(metrics));
        cluster.ifPresent(c -> target.discoveryPortals(c::discoveryPortals));
        VolumeService api = cluster.map(c -> c.volumes(volumes)).orElse(volumes);
        Router router = VolumeApi.router(vertx, api, hostSecrets, tokens, cluster.map(ClusterService.class::cast));
        DriveRoutes.addTo(router, vertx, new NodeDrives(store.engine()));
        router.get(PrometheusEndpoint.PATH).handler(tokens.requireValidToken()).handler(ApiTokens::requireAdmin)
                .handler(new PrometheusEndpoint(metrics));
        http = await(vertx.createHttpServer(httpOptions()).requestHandler(router)
                        .invalidRequestHandler(VolumeApi::answerInvalidRequest)
                        .listen(config.apiPort(), config.apiBind()),
                "listen for the volume API on " + config.apiBind() + ":" + config.apiPort());
        if (cluster.isPresent()) {
            joinCluster(cluster.get(), eventLoops);
        }

        LOG.info("Basalt ready: nvme={} discovery={} api={}://{}{}", hostPort(nvmeAddress),
                hostPort(discoveryAddress), apiScheme(), hostPort(apiAddress()),
                cluster.isPresent() ? " cluster=" + config.cluster().orElseThrow().name() : "");
    }

    /**
     * Before any port opens, so that the first hosts find a compiled data path; a warm-up that fails
     * only leaves the node slower at first, so it is logged and the start goes on.
     */
    private void warmUp(EventLoopGroup eventLoops) {
        if (config.warmUpSeconds() == 0) {
            return;
        }
        long started = System.nanoTime();
        NodeWarmUp.Outcome outcome;
        // Media of its own, released with the scratch engine: a memory drive's memory is not held twice.
        try (NodeMedia scratchMedia = config.engine().media()) {
            outcome = warmUp.run(eventLoops, config.targetOptions("BASALT-WARM-UP"),
                    Runtime.getRuntime().availableProcessors(), Duration.ofSeconds(config.warmUpSeconds()),
                    scratchMedia, config.dataDir().resolve(WARM_UP_DIRECTORY));
        } catch (RuntimeException e) {
            outcome = new NodeWarmUp.Outcome(0, e.toString());
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        if (outcome.failure() == null) {
            LOG.info("warm-up: {} commands in {} ms", outcome.commands(), millis);
        } else {
            LOG.warn("warm-up failed after {} commands in {} ms, starting anyway: {}", outcome.commands(), millis,
                    outcome.failure());
        }
    }

    /** After the API listens, since the cluster is told the node's API address. */
    private void joinCluster(NodeCluster nodeCluster, EventLoopGroup eventLoops) throws StartupException {
        String apiUrl = apiScheme() + "://" + config.advertisedApiAddress() + ":" + http.actualPort();
        try {
            nodeCluster.join(store.nodeId().toString(), apiUrl, portals, volumes, target, eventLoops);
        } catch (ClusterException e) {
            throw new StartupException("cannot join cluster '" + config.cluster().orElseThrow().name() + "' through "
                    + config.cluster().orElseThrow().etcdEndpoints() + ": " + e.getMessage(), e);
        }
    }

    private String apiScheme() {
        return config.apiSecurity().tls() ? "https" : "http";
    }

    /** HTTPS with the configured PEM certificate and key, else plain HTTP. */
    private HttpServerOptions httpOptions() {
        HttpServerOptions options = VolumeApi.serverOptions();
        if (config.apiSecurity().tls()) {
            options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                    .setCertPath(config.apiSecurity().tlsCert().toString())
                    .setKeyPath(config.apiSecurity().tlsKey().toString()));
        }
        return options;
    }

    /**
     * Leaves the cluster first (so that no node counts on this one any more), stops serving hosts, then
     * the API, then the volumes, and closes the engine last. Safe to call twice.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        cluster.ifPresent(NodeCluster::close);
        if (http != null) {
            awaitQuietly(http.close(), "closing the volume API");
        }
        if (target != null) {
            target.close();
        }
        if (vertx != null) {
            awaitQuietly(vertx.close(), "stopping Vert.x");
        }
        if (volumes != null) {
            volumes.close();
        }
        if (store != null) {
            try {
                store.close();
            } catch (IOException e) {
                LOG.warn("closing the engine: {}", e.toString());
            }
        }
        if (media != null) {
            media.close();
        }
        metrics.close();
        LOG.info("Basalt stopped");
    }

    private static <T> T await(Future<T> future, String what) throws StartupException {
        return await(future.toCompletionStage().toCompletableFuture(), what);
    }

    private static <T> T await(CompletableFuture<T> future, String what) throws StartupException {
        try {
            return future.get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new StartupException("cannot " + what + ": " + cause.getMessage(), cause);
        } catch (TimeoutException e) {
            throw new StartupException("cannot " + what + ": no answer in " + STEP_TIMEOUT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartupException("interrupted while trying to " + what, e);
        }
    }

    private static void awaitQuietly(Future<?> future, String what) {
        try {
            future.toCompletionStage().toCompletableFuture().get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("{} failed: {}", what, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String hostPort(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }
}
