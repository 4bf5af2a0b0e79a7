package io.basalt.service.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real Linux NVMe/TCP host (the stock Debian kernel's nvme-tcp with nvme-cli and fio, in a
 * QEMU guest) against a Basalt node running as a separate process.
 *
 * <p>The guest side is {@code src/test/resources/guest/kernel-host-test.sh}: discovery on both
 * ports, connect, identify, verified random writes of mixed sizes, reconnect with header and data
 * digests, survival of a service crash under a connected host (kill -9 and restart; the kernel
 * reconnects by itself), per-host namespace ACLs with a namespace that appears without reconnect.
 *
 * <p>Run: {@code src/test/guest/install-deps.sh} once (root, Debian 12), then
 * {@code mvn -pl storage-service -am test -Dtest=KernelHostTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * Properties: {@code basalt.guest.restart=stop} restarts gracefully instead of kill -9;
 * {@code basalt.guest.fioMb} (default 128) sets the amount of random writes on volume A;
 * {@code basalt.guest.echo=all} echoes the whole guest console live.
 */
@Tag("guest")
class KernelHostTest {

    private static final long MIB = 1024 * 1024;
    private static final long SIZE_A = 256 * MIB;
    private static final long SIZE_B = 64 * MIB;
    private static final Duration GUEST_BUDGET = Duration.ofMinutes(17);

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void linuxKernelHostAgainstBasaltNode() throws Exception {
        Path work = Path.of("target", "guest-work", "kernel-host-" + System.currentTimeMillis());
        String hostId = UUID.randomUUID().toString();
        String hostNqn = QemuGuest.hostNqn(hostId);
        String otherHostNqn = QemuGuest.hostNqn(UUID.randomUUID().toString());
        boolean gracefulRestart = "stop".equals(System.getProperty("basalt.guest.restart"));

        QemuGuest.baseGuest(); // build (or find) the guest before starting anything else
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
                    .param("FIO_SIZE_MB", Integer.getInteger("basalt.guest.fioMb", 128))
                    .param("FIO_B_SIZE_MB", 16)
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
            actions.put("allow-volume-b", () ->
                    setHosts(node, b.path("id").asText(), List.of(otherHostNqn, hostNqn)));

            int rc = guest.serveRequests(actions, GUEST_BUDGET);
            String reason = guest.failureReason();
            assertEquals(0, rc, "the guest's kernel-host test failed: " + (reason != null ? reason : "exit code " + rc));

            // Counters start again at the restart; after it the guest verified A and wrote and verified B.
            String metrics = send(HttpRequest.newBuilder(node.api("/metrics")).GET()).body();
            long fioBytes = Integer.getInteger("basalt.guest.fioMb", 128) * MIB;
            assertTrue(ioBytes(metrics, a.path("id").asText(), "read") >= fioBytes, "volume A read bytes in /metrics");
            assertTrue(ioBytes(metrics, b.path("id").asText(), "write") >= 16 * MIB, "volume B write bytes in /metrics");
            assertTrue(ioBytes(metrics, b.path("id").asText(), "read") >= 16 * MIB, "volume B read bytes in /metrics");
            assertEquals(0.0, gauge(metrics, "basalt_nvme_connections"), "no connection left after the guest disconnected");

            deleteVolume(node, a.path("id").asText());
            deleteVolume(node, b.path("id").asText());
            passed = true;
        } finally {
            if (guest != null) {
                if (!passed) {
                    guest.printConsole(System.out);
                }
                guest.close();
            }
            if (service != null) {
                if (!passed) {
                    System.out.println("======== service log (tail) " + service.logFile().toAbsolutePath() + " ========");
                    System.out.println(service.logTail(200));
                }
                service.close();
            }
            if (passed) {
                deleteTree(work.resolve("data"));
            }
        }
    }

    // ---- volume API ---------------------------------------------------------------------------

    private JsonNode createVolume(ServiceProcess node, String name, long size, List<String> hosts) throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("sizeBytes", size);
        body.put("hosts", hosts);
        HttpResponse<String> r = send(HttpRequest.newBuilder(node.api("/api/v1/volumes"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body))));
        assertEquals(201, r.statusCode(), "POST /api/v1/volumes " + body + " -> " + r.statusCode() + " " + r.body());
        return json.readTree(r.body());
    }

    private void setHosts(ServiceProcess node, String id, List<String> hosts) throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(node.api("/api/v1/volumes/" + id + "/hosts"))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(Map.of("hosts", hosts)))));
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException("PUT /api/v1/volumes/" + id + "/hosts -> " + r.statusCode() + " " + r.body());
        }
    }

    private void deleteVolume(ServiceProcess node, String id) {
        try {
            HttpResponse<String> r = send(HttpRequest.newBuilder(node.api("/api/v1/volumes/" + id)).DELETE());
            if (r.statusCode() / 100 != 2) {
                System.out.println("[test] DELETE volume " + id + " -> " + r.statusCode() + " " + r.body());
            }
        } catch (Exception e) {
            System.out.println("[test] DELETE volume " + id + " failed: " + e);
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
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

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
