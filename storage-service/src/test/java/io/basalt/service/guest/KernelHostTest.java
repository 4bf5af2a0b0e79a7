package io.basalt.service.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A real Linux NVMe/TCP host (the stock Debian kernel's nvme-tcp with nvme-cli and fio, in a
 * QEMU guest) against a Basalt node running as a separate process.
 *
 * <p>The guest side is {@code src/test/resources/guest/kernel-host-test.sh}: discovery on both
 * ports, connect, identify, verified random writes of mixed sizes, reconnect with header and data
 * digests, survival of a service crash under a connected host (fio writes with {@code end_fsync},
 * kill -9 and restart on the same data directory, the kernel reconnects by itself, and fio's verify
 * pass finds every flushed block), {@code blkdiscard} of the namespace shrinking the node's used
 * space (checked here through the API), per-host namespace ACLs with a namespace that appears
 * without reconnect.
 *
 * <p>Run: {@code src/test/guest/install-deps.sh} once (root, Debian 12), then
 * {@code mvn -pl storage-service -am test -Dtest=KernelHostTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * Properties: {@code basalt.guest.restart=stop} restarts gracefully instead of kill -9;
 * {@code basalt.guest.fioMb} (default 128) sets the amount of random writes on volume A;
 * {@code basalt.guest.crashFioMb} (default 32) the amount written (and flushed) just before the kill;
 * {@code basalt.guest.echo=all} echoes the whole guest console live.
 *
 * <p>It runs twice: on Debian 12's own kernel (6.1) and on its 6.12 kernel, whose NVMe host differs
 * (in-band authentication, see {@link KernelAuthenticationTest}).
 */
@Tag("guest")
class KernelHostTest {

    private static final long MIB = 1024 * 1024;
    private static final long SIZE_A = 256 * MIB;
    private static final long SIZE_B = 64 * MIB;
    private static final Duration GUEST_BUDGET = Duration.ofMinutes(17);

    private final ObjectMapper json = new ObjectMapper();

    @ParameterizedTest(name = "Linux {0}")
    @ValueSource(strings = {"6.1", "6.12"})
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void linuxKernelHostAgainstBasaltNode(String kernelVersion) throws Exception {
        Path work = Path.of("target", "guest-work", "kernel-host-" + System.currentTimeMillis());
        String hostId = UUID.randomUUID().toString();
        String hostNqn = QemuGuest.hostNqn(hostId);
        String otherHostNqn = QemuGuest.hostNqn(UUID.randomUUID().toString());
        boolean gracefulRestart = "stop".equals(System.getProperty("basalt.guest.restart"));
        int fioMb = Integer.getInteger("basalt.guest.fioMb", 128);
        int crashFioMb = Integer.getInteger("basalt.guest.crashFioMb", 32);

        String kernel = "6.12".equals(kernelVersion) ? QemuGuest.KERNEL_6_12 : QemuGuest.DEFAULT_KERNEL;
        QemuGuest.baseGuest(kernel); // build (or find) the guest before starting anything else
        ServiceProcess service = null;
        QemuGuest guest = null;
        boolean passed = false;
        try {
            service = ServiceProcess.start(work);
            final ServiceProcess node = service;

            JsonNode a = createVolume(node, "kht-a-" + hostId.substring(0, 8), SIZE_A, List.of(hostNqn));
            JsonNode b = createVolume(node, "kht-b-" + hostId.substring(0, 8), SIZE_B, List.of(otherHostNqn));
            String subNqn = a.path("nqn").asText();
            assertFalse(subNqn.isEmpty(), "volume A has no subsystem nqn: " + a);
            assertEquals(subNqn, b.path("nqn").asText(), "all volumes are namespaces of one subsystem");
            assertEquals(SIZE_A, a.path("sizeBytes").asLong(), "volume A size: " + a);
            assertFalse(a.path("uuid").asText().isEmpty(), "volume A has no uuid: " + a);
            assertFalse(b.path("uuid").asText().isEmpty(), "volume B has no uuid: " + b);
            assertTrue(portalPorts(a).contains(node.nvmePort()),
                    "volume A's portals " + a.path("portals") + " do not include the NVMe/TCP port " + node.nvmePort());

            String script = resource("/guest/kernel-host-test.sh");
            guest = QemuGuest.named("kernel-host")
                    .kernel(kernel)
                    .script(script)
                    .param("HOSTNQN", hostNqn)
                    .param("HOSTID", hostId)
                    .param("TARGET_ADDR", "10.0.2.2")
                    .param("NVME_PORT", node.nvmePort())
                    .param("DISCOVERY_PORT", node.discoveryPort())
                    .param("SUBNQN", subNqn)
                    .param("VOL_A_UUID", a.path("uuid").asText())
                    .param("VOL_A_SIZE", SIZE_A)
                    .param("VOL_B_UUID", b.path("uuid").asText())
                    .param("VOL_B_SIZE", SIZE_B)
                    .param("FIO_SIZE_MB", fioMb)
                    .param("FIO_B_SIZE_MB", 16)
                    .param("FIO_CRASH_MB", crashFioMb)
                    .param("WAIT_SECS", 120)
                    .param("NS_APPEAR_SECS", 60)
                    .workDir(work)
                    .boot();

            Map<String, QemuGuest.HostAction> actions = new LinkedHashMap<>();
            actions.put("restart-service", () -> {
                if (gracefulRestart) {
                    node.restart();
                } else {
                    node.crashAndRestart();
                }
            });
            String aId = a.path("id").asText();
            long written = (fioMb + crashFioMb) * MIB; // fio's random map writes every block of its region once
            long[] before = new long[2]; // node usedBytes, volume A mappedBytes
            actions.put("measure-space", () -> {
                before[0] = usedBytes(node);
                before[1] = mappedBytes(node, aId);
                System.out.println("[test] before blkdiscard: node usedBytes=" + before[0] + ", volume A mappedBytes="
                        + before[1]);
                if (before[1] != written || before[0] <= 0) {
                    throw new AssertionError("after the guest wrote " + written + " bytes of volume A (" + fioMb + " + "
                            + crashFioMb + " MiB) and the node was killed and restarted, the node reports usedBytes="
                            + before[0] + " and volume A mappedBytes=" + before[1]);
                }
            });
            actions.put("check-space-shrank", () -> {
                long used = usedBytes(node);
                long mapped = mappedBytes(node, aId);
                System.out.println("[test] after blkdiscard: node usedBytes=" + used + ", volume A mappedBytes=" + mapped);
                if (mapped != 0) {
                    throw new AssertionError("volume A still maps " + mapped + " bytes after blkdiscard of the whole"
                            + " namespace (was " + before[1] + ")");
                }
                if (used >= before[0]) {
                    throw new AssertionError("node usedBytes did not shrink after blkdiscard of volume A: " + before[0]
                            + " -> " + used);
                }
            });
            actions.put("allow-volume-b", () ->
                    setHosts(node, b.path("id").asText(), List.of(otherHostNqn, hostNqn)));

            int rc = guest.serveRequests(actions, GUEST_BUDGET);
            String reason = guest.failureReason();
            assertEquals(0, rc, "the guest's kernel-host test failed: " + (reason != null ? reason : "exit code " + rc));

            // Counters start again at the restart; after it the guest verified A and wrote and verified B.
            HttpResponse<String> metricsResponse = node.get("/metrics");
            assertEquals(200, metricsResponse.statusCode(), "GET /metrics with the admin token: " + metricsResponse.body());
            String metrics = metricsResponse.body();
            long fioBytes = fioMb * MIB;
            assertTrue(ioBytes(metrics, a.path("id").asText(), "read") >= fioBytes, "volume A read bytes in /metrics");
            assertTrue(ioBytes(metrics, b.path("id").asText(), "write") >= 16 * MIB, "volume B write bytes in /metrics");
            assertTrue(ioBytes(metrics, b.path("id").asText(), "read") >= 16 * MIB, "volume B read bytes in /metrics");
            assertEquals(0.0, gauge(metrics, "basalt_nvme_connections"), "no connection left after the guest disconnected");

            deleteVolume(node, a.path("id").asText());
            deleteVolume(node, b.path("id").asText());
            passed = true;
        } finally {
            QemuGuest.closeAfterTest(guest, service, passed);
            if (passed) {
                ServiceProcess.deleteTree(work.resolve("data"));
            }
        }
    }

    // ---- volume API ---------------------------------------------------------------------------

    private JsonNode createVolume(ServiceProcess node, String name, long size, List<String> hosts) throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("sizeBytes", size);
        body.put("hosts", hosts);
        HttpResponse<String> r = node.sendJson("POST", "/api/v1/volumes", json.writeValueAsString(body));
        assertEquals(201, r.statusCode(), "POST /api/v1/volumes " + body + " -> " + r.statusCode() + " " + r.body());
        return json.readTree(r.body());
    }

    private void setHosts(ServiceProcess node, String id, List<String> hosts) throws Exception {
        HttpResponse<String> r = node.sendJson("PUT", "/api/v1/volumes/" + id + "/hosts",
                json.writeValueAsString(Map.of("hosts", hosts)));
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException("PUT /api/v1/volumes/" + id + "/hosts -> " + r.statusCode() + " " + r.body());
        }
    }

    private void deleteVolume(ServiceProcess node, String id) {
        try {
            HttpResponse<String> r = node.send(node.request("/api/v1/volumes/" + id).DELETE());
            if (r.statusCode() / 100 != 2) {
                System.out.println("[test] DELETE volume " + id + " -> " + r.statusCode() + " " + r.body());
            }
        } catch (Exception e) {
            System.out.println("[test] DELETE volume " + id + " failed: " + e);
        }
    }

    /** {@code usedBytes} of GET /api/v1/stats. */
    private long usedBytes(ServiceProcess node) throws Exception {
        HttpResponse<String> r = node.get("/api/v1/stats");
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET /api/v1/stats -> " + r.statusCode() + " " + r.body());
        }
        JsonNode used = json.readTree(r.body()).path("usedBytes");
        if (!used.isNumber()) {
            throw new IllegalStateException("GET /api/v1/stats has no usedBytes: " + r.body());
        }
        return used.asLong();
    }

    /** {@code space.mappedBytes} of GET /api/v1/volumes/{id}. */
    private long mappedBytes(ServiceProcess node, String id) throws Exception {
        HttpResponse<String> r = node.get("/api/v1/volumes/" + id);
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET /api/v1/volumes/" + id + " -> " + r.statusCode() + " " + r.body());
        }
        JsonNode mapped = json.readTree(r.body()).path("space").path("mappedBytes");
        if (!mapped.isNumber()) {
            throw new IllegalStateException("volume " + id + " has no space.mappedBytes: " + r.body());
        }
        return mapped.asLong();
    }

    /** Sum of basalt_volume_io_bytes_total for one volume and operation in Prometheus text. */
    private static double ioBytes(String metrics, String volumeId, String op) {
        return metrics.lines()
                .filter(l -> l.startsWith("basalt_volume_io_bytes_total{") && l.contains("volume=\"" + volumeId + "\"")
                        && l.contains("op=\"" + op + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    private static double gauge(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ")).findFirst()
                .map(l -> Double.parseDouble(l.substring(name.length() + 1)))
                .orElseThrow(() -> new AssertionError(name + " missing from /metrics"));
    }

    private static List<Integer> portalPorts(JsonNode volume) {
        List<Integer> ports = new ArrayList<>();
        volume.path("portals").forEach(p -> ports.add(p.path("port").asInt()));
        return ports;
    }

    // ---- helpers ------------------------------------------------------------------------------

    static String resource(String name) throws IOException {
        try (InputStream in = KernelHostTest.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("test resource " + name + " missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

}
