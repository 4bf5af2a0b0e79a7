package io.basalt.service;

import com.fasterxml.jackson.databind.JsonNode;
import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.auth.DhchapKey;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.NvmeAuthenticationException;
import io.basalt.nvmetcp.host.NvmeStatusException;
import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.nio.NioEventLoopGroup;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole node on free ports of 127.0.0.1, with a small engine drive. */
class StorageNodeTest extends LiveNodeTest {
    @Test
    void servesTheVolumeApiAndMetricsAndKeepsVolumesAcrossRestarts() throws Exception {
        String id;
        String token;
        try (StorageNode node = StorageNode.start(config())) {
            token = adminToken();
            int port = node.apiAddress().getPort();
            HttpResponse<Buffer> created = await(authorized(client.post(port, HOST, "/api/v1/volumes"), token)
                    .putHeader("Content-Type", "application/json")
                    .sendBuffer(Buffer.buffer("{\"name\":\"v1\",\"sizeBytes\":1048576,\"compression\":true}")));
            assertEquals(201, created.statusCode(), created.bodyAsString());
            JsonNode volume = JSON.readTree(created.bodyAsString());
            id = volume.get("id").asText();
            assertEquals("default", volume.get("project").asText());
            assertTrue(volume.get("compression").asBoolean());
            JsonNode portal = volume.get("portals").get(0);
            assertEquals(HOST, portal.get("address").asText());
            assertEquals(node.nvmeAddress().getPort(), portal.get("port").asInt());

            HttpResponse<Buffer> snapshot = await(authorized(client.post(port, HOST, "/api/v1/snapshots"), token)
                    .putHeader("Content-Type", "application/json")
                    .sendBuffer(Buffer.buffer("{\"name\":\"s1\",\"sourceVolumeId\":\"" + id + "\"}")));
            assertEquals(201, snapshot.statusCode(), snapshot.bodyAsString());

            HttpResponse<Buffer> stats = await(authorized(client.get(port, HOST, "/api/v1/stats"), token).send());
            assertEquals(200, stats.statusCode(), stats.bodyAsString());
            JsonNode nodeStats = JSON.readTree(stats.bodyAsString());
            assertEquals(1, nodeStats.get("volumes").asInt());
            assertEquals(1, nodeStats.get("snapshots").asInt());
            assertEquals(1048576, nodeStats.get("provisionedBytes").asLong());
            assertTrue(nodeStats.get("totalBytes").asLong() > 200L << 20, stats.bodyAsString());

            String metrics = metrics(port, token);
            assertTrue(metrics.contains("basalt_volumes 1.0"), metrics);
            assertTrue(metrics.contains("basalt_nvme_connections"), metrics);
            assertTrue(metrics.contains("volume=\"" + id + "\""), metrics);
        }
        try (StorageNode node = StorageNode.start(config())) {
            assertEquals(token, adminToken(), "the generated token is kept");
            int port = node.apiAddress().getPort();
            HttpResponse<Buffer> got = await(authorized(client.get(port, HOST, "/api/v1/volumes/" + id), token).send());
            assertEquals(200, got.statusCode(), got.bodyAsString());
            HttpResponse<Buffer> snapshots = await(authorized(client.get(port, HOST, "/api/v1/snapshots"), token)
                    .send());
            assertEquals("s1", JSON.readTree(snapshots.bodyAsString()).get("snapshots").get(0).get("name").asText());
        }
    }

    /**
     * In-band authentication end to end: a host secret set through the API, a volume that requires
     * authentication, the nvmetcp host client connecting with the secret, with a wrong one and without.
     */
    @Test
    void hostSecretSetThroughTheApiGuardsAVolumeThatRequiresAuthentication() throws Exception {
        String host = "nqn.2014-08.org.nvmexpress:uuid:5e1f0000-0000-4000-8000-00000000a17e";
        String secret = "DHHC-1:01:bHuByyp0b3RFSx1xQPMVO1HKmUWfzveoahfydpW4fNgSLMVm:";
        String wrong = "DHHC-1:00:iIUAnmnqGpUWVsXpOuB0Fx+lwU0tgouGmxPqXYf8bMmdqnRi:";
        NioEventLoopGroup hostGroup = new NioEventLoopGroup(1);
        try (StorageNode node = StorageNode.start(config())) {
            String token = adminToken();
            int port = node.apiAddress().getPort();
            HttpResponse<Buffer> created = await(authorized(client.post(port, HOST, "/api/v1/volumes"), token)
                    .putHeader("Content-Type", "application/json")
                    .sendBuffer(Buffer.buffer("{\"name\":\"locked\",\"sizeBytes\":1048576,\"hosts\":[\"" + host
                            + "\"],\"requireAuthentication\":true}")));
            assertEquals(201, created.statusCode(), created.bodyAsString());
            String nqn = JSON.readTree(created.bodyAsString()).get("nqn").asText();
            String target = node.nvmeAddress().getHostString();
            int nvmePort = node.nvmeAddress().getPort();
            HostOptions options = HostOptions.defaults(host);

            Throwable noSecretYet = assertThrows(ExecutionException.class, () -> HostController.connect(hostGroup,
                    options, target, nvmePort, nqn).get(10, TimeUnit.SECONDS)).getCause();
            assertInstanceOf(NvmeStatusException.class, noSecretYet, "not admitted: the volume requires a secret");

            HttpResponse<Buffer> set = await(authorized(client.put(port, HOST, "/api/v1/hosts/"
                    + URLEncoder.encode(host, StandardCharsets.UTF_8) + "/dhchap"), token)
                    .putHeader("Content-Type", "application/json")
                    .sendBuffer(Buffer.buffer("{\"hostSecret\":\"" + secret + "\"}")));
            assertEquals(200, set.statusCode(), set.bodyAsString());
            assertFalse(set.bodyAsString().contains("DHHC-1"));

            HostController c = HostController.connect(hostGroup, options.withDhchap(
                    new DhchapCredentials(DhchapKey.parse(secret), null)), target, nvmePort, nqn).get(10, TimeUnit.SECONDS);
            assertEquals(1, c.activeNamespaces().get(10, TimeUnit.SECONDS).length, "the volume is visible");
            c.closeAsync().get(10, TimeUnit.SECONDS);

            Throwable wrongSecret = assertThrows(ExecutionException.class, () -> HostController.connect(hostGroup,
                    options.withDhchap(new DhchapCredentials(DhchapKey.parse(wrong), null)), target, nvmePort, nqn)
                    .get(10, TimeUnit.SECONDS)).getCause();
            assertInstanceOf(NvmeAuthenticationException.class, wrongSecret);
            Throwable noSecret = assertThrows(ExecutionException.class, () -> HostController.connect(hostGroup,
                    options, target, nvmePort, nqn).get(10, TimeUnit.SECONDS)).getCause();
            assertInstanceOf(NvmeAuthenticationException.class, noSecret);
            String metrics = metrics(port, token);
            assertTrue(metrics.contains("basalt_nvme_authentications_total"), metrics);
            // At least the two refused connects. A busy run once counted a third: a failed queue's close
            // racing its Failure2 was counted as well (now counted once per queue, see AuthenticationTest).
            double failures = metrics.lines().filter(l -> l.startsWith("basalt_nvme_authentication_failures_total "))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElse(0);
            assertTrue(failures >= 2.0, metrics);
        } finally {
            hostGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * QoS end to end through the in-process host client: a volume limited to {@value #QOS_IOPS} IOPS,
     * driven by two connections at once (queue depth {@value #QOS_DEPTH} each), achieves its limit
     * within 10% in total, not per connection, while an unlimited volume of the same node, driven at
     * the same time, runs well above it. Rates are compared with the limit only, never with the
     * machine's own speed. Shown failing with the buckets' rate doubled, which is what buckets per
     * connection would give these two connections (599 + 587 reads in 3.04 s: 390 IOPS).
     */
    @Test
    void aVolumesIopsLimitHoldsAcrossConnectionsWithoutSlowingItsNeighbour() throws Exception {
        String host = "nqn.2014-08.org.nvmexpress:uuid:5e1f0000-0000-4000-8000-0000000000a5";
        NioEventLoopGroup hostGroup = new NioEventLoopGroup(1);
        try (StorageNode node = StorageNode.start(config())) {
            String token = adminToken();
            int port = node.apiAddress().getPort();
            JsonNode limited = createVolume(port, token, "{\"name\":\"limited\",\"sizeBytes\":16777216,\"hosts\":[\""
                    + host + "\"],\"qos\":{\"readIops\":" + QOS_IOPS + "}}");
            assertEquals(QOS_IOPS, limited.get("qos").get("readIops").asLong(), "the limit is shown");
            JsonNode free = createVolume(port, token, "{\"name\":\"free\",\"sizeBytes\":16777216,\"hosts\":[\""
                    + host + "\"]}");
            HostOptions options = HostOptions.defaults(host).withIoQueues(1, 64);
            String target = node.nvmeAddress().getHostString();
            int nvmePort = node.nvmeAddress().getPort();
            String nqn = limited.get("nqn").asText();
            HostController first = HostController.connect(hostGroup, options, target, nvmePort, nqn).get(10, TimeUnit.SECONDS);
            HostController second = HostController.connect(hostGroup, options, target, nvmePort, nqn).get(10, TimeUnit.SECONDS);

            long seconds = 3;
            ClosedLoopReads onFirst = new ClosedLoopReads(first, limited.get("nsid").asInt());
            ClosedLoopReads onSecond = new ClosedLoopReads(second, limited.get("nsid").asInt());
            ClosedLoopReads neighbour = new ClosedLoopReads(first, free.get("nsid").asInt());
            long start = System.nanoTime();
            long end = start + TimeUnit.SECONDS.toNanos(seconds);
            onFirst.start(end);
            onSecond.start(end);
            neighbour.start(end);
            onFirst.finished().get(30, TimeUnit.SECONDS);
            onSecond.finished().get(30, TimeUnit.SECONDS);
            neighbour.finished().get(30, TimeUnit.SECONDS);
            // Only completions before the deadline count, so the window is start..deadline.
            double elapsed = (end - start) / 1e9;

            double limitedIops = (onFirst.completed() + onSecond.completed()) / elapsed;
            // The figures docs/benchmarks.md quotes ("QoS accuracy").
            System.out.printf("QoS: limit %d IOPS, achieved %.1f (%d + %d reads over two connections);"
                            + " unlimited neighbour %.0f IOPS at the same time; %.2f s%n", QOS_IOPS, limitedIops,
                    onFirst.completed(), onSecond.completed(), neighbour.completed() / elapsed, elapsed);
            assertEquals(QOS_IOPS, limitedIops, QOS_IOPS * 0.1, "both connections together: " + onFirst.completed()
                    + " + " + onSecond.completed() + " reads in " + elapsed + " s");
            assertTrue(onFirst.completed() > 0 && onSecond.completed() > 0, "each connection got its share");
            assertTrue(neighbour.completed() / elapsed > 2 * QOS_IOPS, "the unlimited neighbour did "
                    + neighbour.completed() + " reads in " + elapsed + " s");
            assertEquals(0, onFirst.errors() + onSecond.errors() + neighbour.errors(), "every read succeeded");

            String metrics = metrics(port, token);
            String throttled = metrics.lines().filter(line -> line.startsWith("basalt_volume_qos_throttled_seconds_total{")
                    && line.contains("volume=\"" + limited.get("id").asText() + "\"")).findFirst().orElseThrow();
            assertTrue(Double.parseDouble(throttled.substring(throttled.lastIndexOf(' ') + 1)) > 0, throttled);
            first.closeAsync().get(10, TimeUnit.SECONDS);
            second.closeAsync().get(10, TimeUnit.SECONDS);
        } finally {
            hostGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * A bandwidth limit with 128 KiB reads: {@value #QOS_BYTES_PER_SEC} bytes per second read by two
     * connections together is 64 reads per second, within 10%.
     */
    @Test
    void aVolumesBandwidthLimitHoldsFor128KiBReads() throws Exception {
        String host = "nqn.2014-08.org.nvmexpress:uuid:5e1f0000-0000-4000-8000-0000000000b5";
        NioEventLoopGroup hostGroup = new NioEventLoopGroup(1);
        try (StorageNode node = StorageNode.start(config())) {
            JsonNode limited = createVolume(node.apiAddress().getPort(), adminToken(), "{\"name\":\"limited\","
                    + "\"sizeBytes\":16777216,\"hosts\":[\"" + host + "\"],\"qos\":{\"readBytesPerSec\":"
                    + QOS_BYTES_PER_SEC + "}}");
            HostOptions options = HostOptions.defaults(host).withIoQueues(1, 64);
            String target = node.nvmeAddress().getHostString();
            int nvmePort = node.nvmeAddress().getPort();
            String nqn = limited.get("nqn").asText();
            HostController first = HostController.connect(hostGroup, options, target, nvmePort, nqn).get(10, TimeUnit.SECONDS);
            HostController second = HostController.connect(hostGroup, options, target, nvmePort, nqn).get(10, TimeUnit.SECONDS);
            int blocks = 32;
            ClosedLoopReads onFirst = new ClosedLoopReads(first, limited.get("nsid").asInt(), blocks);
            ClosedLoopReads onSecond = new ClosedLoopReads(second, limited.get("nsid").asInt(), blocks);
            long start = System.nanoTime();
            long end = start + TimeUnit.SECONDS.toNanos(3);
            onFirst.start(end);
            onSecond.start(end);
            onFirst.finished().get(30, TimeUnit.SECONDS);
            onSecond.finished().get(30, TimeUnit.SECONDS);

            double bytesPerSec = (onFirst.completed() + onSecond.completed()) * blocks * 4096.0 / ((end - start) / 1e9);
            System.out.printf("QoS: limit %d bytes/s, achieved %.0f with 128 KiB reads (%d + %d)%n", QOS_BYTES_PER_SEC,
                    bytesPerSec, onFirst.completed(), onSecond.completed());
            assertEquals(QOS_BYTES_PER_SEC, bytesPerSec, QOS_BYTES_PER_SEC * 0.1);
            assertEquals(0, onFirst.errors() + onSecond.errors(), "every read succeeded");
            first.closeAsync().get(10, TimeUnit.SECONDS);
            second.closeAsync().get(10, TimeUnit.SECONDS);
        } finally {
            hostGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static final int QOS_BYTES_PER_SEC = 8 << 20;
    private static final int QOS_IOPS = 200;
    private static final int QOS_DEPTH = 8;

    /** Keeps {@value #QOS_DEPTH} reads in flight on one namespace until a deadline, counting completions. */
    private static final class ClosedLoopReads {
        private final HostController controller;
        private final int nsid;
        /** 4 KiB blocks per read. */
        private final int blocks;
        private final AtomicLong completed = new AtomicLong();
        private final AtomicLong errors = new AtomicLong();
        private final AtomicInteger inFlight = new AtomicInteger();
        private final CompletableFuture<Void> finished = new CompletableFuture<>();
        private long deadline;

        ClosedLoopReads(HostController controller, int nsid) {
            this(controller, nsid, 1);
        }

        ClosedLoopReads(HostController controller, int nsid, int blocks) {
            this.controller = controller;
            this.nsid = nsid;
            this.blocks = blocks;
        }

        void start(long deadlineNanos) {
            deadline = deadlineNanos;
            inFlight.set(QOS_DEPTH);
            for (int i = 0; i < QOS_DEPTH; i++) {
                next(i);
            }
        }

        private void next(long lba) {
            ByteBuf dst = Unpooled.buffer(blocks * 4096);
            // The volumes hold 4096 blocks of 4 KiB.
            controller.read(nsid, lba * blocks % (4096 - blocks), blocks, dst, (status, result) -> {
                dst.release();
                if (System.nanoTime() - deadline < 0) { // completed inside the window: counted
                    (Status.isSuccess(status) ? completed : errors).incrementAndGet();
                    next(lba + QOS_DEPTH);
                } else if (inFlight.decrementAndGet() == 0) {
                    finished.complete(null);
                }
            });
        }

        long completed() {
            return completed.get();
        }

        long errors() {
            return errors.get();
        }

        CompletableFuture<Void> finished() {
            return finished;
        }
    }

    private static JsonNode createVolume(int port, String token, String body) throws Exception {
        HttpResponse<Buffer> created = await(authorized(client.post(port, HOST, "/api/v1/volumes"), token)
                .putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(body)));
        assertEquals(201, created.statusCode(), created.bodyAsString());
        return JSON.readTree(created.bodyAsString());
    }

    @Test
    void theApiNeedsTheGeneratedAdminToken() throws Exception {
        try (StorageNode node = StorageNode.start(config())) {
            Path file = dataDir.resolve(AdminToken.FILE_NAME);
            assertTrue(Files.isRegularFile(file), "generated at first start");
            assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(file));
            String token = adminToken();
            assertTrue(token.length() >= 32, token);
            int port = node.apiAddress().getPort();

            HttpResponse<Buffer> anonymous = await(client.get(port, HOST, "/api/v1/volumes").send());
            assertEquals(401, anonymous.statusCode());
            assertEquals("Bearer", anonymous.getHeader("WWW-Authenticate"));
            assertTrue(JSON.readTree(anonymous.bodyAsString()).has("error"), anonymous.bodyAsString());
            assertEquals(401, await(authorized(client.get(port, HOST, "/api/v1/volumes"), token + "x").send())
                    .statusCode(), "a wrong token");
            assertEquals(401, await(client.get(port, HOST, "/api/v1/volumes")
                    .putHeader("Authorization", "Basic " + token).send()).statusCode(), "not a bearer token");
            assertEquals(401, await(client.get(port, HOST, "/api/v1/stats").send()).statusCode());

            HttpResponse<Buffer> listed = await(authorized(client.get(port, HOST, "/api/v1/volumes"), token).send());
            assertEquals(200, listed.statusCode(), listed.bodyAsString());
            assertEquals(0, JSON.readTree(listed.bodyAsString()).get("volumes").size());

            assertEquals(200, await(client.get(port, HOST, "/api/v1/health").send()).statusCode(), "no token needed");
            assertEquals(200, await(client.get(port, HOST, "/api/v1/openapi.json").send()).statusCode());
        }
    }

    @Test
    void metricsNeedATokenAndShowTheEngineAndEachVolumesCompression() throws Exception {
        try (StorageNode node = StorageNode.start(config())) {
            String token = adminToken();
            int port = node.apiAddress().getPort();
            HttpResponse<Buffer> anonymous = await(client.get(port, HOST, "/metrics").send());
            assertEquals(401, anonymous.statusCode());
            assertEquals("Bearer", anonymous.getHeader("WWW-Authenticate"));
            assertFalse(anonymous.bodyAsString().contains("basalt_"), anonymous.bodyAsString());
            assertEquals(401, await(authorized(client.get(port, HOST, "/metrics"), "wrong").send()).statusCode());

            HttpResponse<Buffer> created = await(authorized(client.post(port, HOST, "/api/v1/volumes"), token)
                    .putHeader("Content-Type", "application/json")
                    .sendBuffer(Buffer.buffer("{\"name\":\"m\",\"sizeBytes\":1048576}")));
            assertEquals(201, created.statusCode(), created.bodyAsString());
            String id = JSON.readTree(created.bodyAsString()).get("id").asText();

            String metrics = metrics(port, token);
            for (String name : List.of("basalt_engine_capacity_bytes", "basalt_engine_used_bytes",
                    "basalt_engine_free_segments", "basalt_engine_write_amplification",
                    "basalt_engine_compression_ratio", "basalt_engine_recovery_seconds",
                    "basalt_engine_host_written_bytes_total", "basalt_engine_drive_written_bytes_total",
                    "basalt_engine_checksum_errors_total", "basalt_engine_capacity_errors_total",
                    "basalt_engine_checkpoints_total")) {
                assertTrue(metrics.lines().anyMatch(line -> line.startsWith(name + " ")), name + " in:\n" + metrics);
            }
            assertTrue(metrics.lines().anyMatch(line -> line.startsWith("basalt_volume_compression_ratio{")
                    && line.contains("volume=\"" + id + "\"") && line.contains("name=\"m\"")
                    && line.endsWith(" 1.0")), "an empty volume's ratio is 1.0:\n" + metrics);
            long capacity = metrics.lines().filter(line -> line.startsWith("basalt_engine_capacity_bytes "))
                    .map(line -> (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1)))
                    .findFirst().orElseThrow();
            assertTrue(capacity > 200L << 20 && capacity <= 256L << 20, "the configured drive: " + capacity);

            assertEquals(204, await(authorized(client.delete(port, HOST, "/api/v1/volumes/" + id), token).send())
                    .statusCode());
            assertFalse(metrics(port, token).contains("volume=\"" + id + "\""), "a deleted volume's meters go");
        }
    }

    @Test
    void aConfiguredAdminTokenIsUsedAndProjectTokensSeeOnlyTheirProject() throws Exception {
        try (StorageNode node = StorageNode.start(config("--api.admin-token=admin-secret",
                "--api.project-tokens=alpha=alpha-secret,beta=beta-secret"))) {
            assertFalse(Files.exists(dataDir.resolve(AdminToken.FILE_NAME)), "no file when the token is configured");
            int port = node.apiAddress().getPort();
            HttpResponse<Buffer> created = await(authorized(client.post(port, HOST, "/api/v1/projects/alpha/volumes"),
                    "alpha-secret").putHeader("Content-Type", "application/json")
                    .sendBuffer(Buffer.buffer("{\"name\":\"a\",\"sizeBytes\":1048576}")));
            assertEquals(201, created.statusCode(), created.bodyAsString());
            String id = JSON.readTree(created.bodyAsString()).get("id").asText();
            assertEquals("alpha", JSON.readTree(created.bodyAsString()).get("project").asText());

            assertEquals(200, await(authorized(client.get(port, HOST, "/api/v1/projects/alpha/volumes/" + id),
                    "admin-secret").send()).statusCode(), "the admin sees every project");
            // /metrics lists every project's volumes: the admin's only (a project token read it before; issue 10, defect 7)
            assertEquals(403, metricsResponse(port, "alpha-secret").statusCode());
            assertEquals(200, metricsResponse(port, "admin-secret").statusCode());
            assertEquals(404, await(authorized(client.get(port, HOST, "/api/v1/projects/alpha/volumes/" + id),
                    "beta-secret").send()).statusCode(), "another project's token: as if it did not exist");
            assertEquals(404, await(authorized(client.get(port, HOST, "/api/v1/volumes/" + id), "admin-secret")
                    .send()).statusCode(), "not in the default project");
            HttpResponse<Buffer> betaList = await(authorized(client.get(port, HOST, "/api/v1/projects/beta/volumes"),
                    "beta-secret").send());
            assertEquals(200, betaList.statusCode());
            assertEquals(0, JSON.readTree(betaList.bodyAsString()).get("volumes").size());
        }
    }

    @Test
    void servesHttpsWithTheConfiguredCertificate() throws Exception {
        Path[] pem = selfSignedPem();
        try (StorageNode node = StorageNode.start(config("--api.tls-cert=" + pem[0], "--api.tls-key=" + pem[1],
                "--api.admin-token=tls-secret"))) {
            int port = node.apiAddress().getPort();
            WebClient https = WebClient.create(clientVertx, new WebClientOptions().setSsl(true).setTrustAll(true)
                    .setVerifyHost(false));
            try {
                HttpResponse<Buffer> health = await(https.get(port, HOST, "/api/v1/health").send());
                assertEquals(200, health.statusCode(), health.bodyAsString());
                assertEquals(401, await(https.get(port, HOST, "/api/v1/volumes").send()).statusCode());
                HttpResponse<Buffer> listed = await(authorized(https.get(port, HOST, "/api/v1/volumes"), "tls-secret")
                        .send());
                assertEquals(200, listed.statusCode(), listed.bodyAsString());
                HttpResponse<Buffer> metrics = await(authorized(https.get(port, HOST, "/metrics"), "tls-secret").send());
                assertEquals(200, metrics.statusCode());
            } finally {
                https.close();
            }
            assertThrows(ExecutionException.class, () -> await(client.get(port, HOST, "/api/v1/health").send()),
                    "plain HTTP gets no answer from the HTTPS port");
        }
    }

    @Test
    void aTlsKeyThatCannotBeReadIsAClearError() throws Exception {
        Path[] pem = selfSignedPem();
        Path missing = dataDir.resolve("missing-key.pem");
        StartupException e = assertThrows(StartupException.class,
                () -> StorageNode.start(config("--api.tls-cert=" + pem[0], "--api.tls-key=" + missing)));
        assertTrue(e.getMessage().contains("volume API"), e.getMessage());
        StorageNode.start(config()).close(); // everything was released
    }

    @Test
    void aTakenApiPortIsAClearErrorAndReleasesEverything() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            StartupException e = assertThrows(StartupException.class,
                    () -> StorageNode.start(config("--api.port=" + taken.getLocalPort())));
            assertTrue(e.getMessage().contains("volume API") && e.getMessage().contains(":" + taken.getLocalPort()),
                    e.getMessage());
        }
        StorageNode.start(config()).close(); // the data directory lock was released
    }

    @Test
    void aTakenNvmePortIsAClearError() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            StartupException e = assertThrows(StartupException.class,
                    () -> StorageNode.start(config("--nvme.port=" + taken.getLocalPort())));
            assertTrue(e.getMessage().contains("NVMe/TCP"), e.getMessage());
        }
    }

    @Test
    void anUnusableDataDirectoryIsAClearError() throws Exception {
        Path file = Files.createFile(dataDir.resolve("not-a-directory"));
        StartupException e = assertThrows(StartupException.class,
                () -> StorageNode.start(config("--data-dir=" + file)));
        assertTrue(e.getMessage().contains("data directory"), e.getMessage());
    }

    @Test
    void anOldRegistryIsAClearError() throws Exception {
        StorageNode.start(config()).close();
        Path registry = dataDir.resolve("registry.json");
        Files.writeString(registry, Files.readString(registry).replace("\"format\" : 2", "\"format\" : 1"));
        StartupException e = assertThrows(StartupException.class, () -> StorageNode.start(config()));
        assertTrue(e.getMessage().contains("data directory") && e.getMessage().contains("format 1"), e.getMessage());
    }




    private static HttpResponse<Buffer> metricsResponse(int port, String token) throws Exception {
        return await(authorized(client.get(port, HOST, "/metrics"), token).send());
    }

    private static String metrics(int port, String token) throws Exception {
        HttpResponse<Buffer> response = metricsResponse(port, token);
        assertEquals(200, response.statusCode(), response.bodyAsString());
        return response.bodyAsString();
    }

    /** A self-signed certificate and its PKCS#8 key as PEM files, made with the JDK's keytool. */
    private Path[] selfSignedPem() throws Exception {
        Path store = dataDir.resolve("tls.p12");
        char[] password = "changeit".toCharArray();
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "basalt", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass", new String(password), "-keypass", new String(password))
                .redirectErrorStream(true).start();
        String output;
        try (InputStream in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "keytool did not finish");
        assertEquals(0, process.exitValue(), output);

        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keyStore.load(in, password);
        }
        PrivateKey key = (PrivateKey) keyStore.getKey("basalt", password);
        Certificate cert = keyStore.getCertificate("basalt");
        Path certFile = Files.writeString(dataDir.resolve("tls-cert.pem"), pem("CERTIFICATE", cert.getEncoded()));
        Path keyFile = Files.writeString(dataDir.resolve("tls-key.pem"), pem("PRIVATE KEY", key.getEncoded()));
        return new Path[]{certFile, keyFile};
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

}
