package io.basalt.service.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real Linux NVMe/TCP host (the QEMU guest of {@link KernelHostTest}) on a volume of a node with six
 * drive files erasure-coded 4+2, while its drives fail (issue 12, docs/storage-engine.md "Failed
 * drives", docs/operations.md "Replacing a drive").
 *
 * <p>The guest side is {@code src/test/resources/guest/failing-drives-test.sh}; it writes three
 * regions with fio (random writes, crc32c verify) and asks this side, through the console protocol,
 * to act: drive 1's file is truncated to nothing, then drive 4's file removed, each while the host
 * writes and verifies without an error, and the node must report them failed (API with the reason,
 * log, {@code basalt_engine_drives_failed}); both are replaced through
 * {@code POST /api/v1/drives/{n}/replace}, one rebuild after the other, and fio's verify pass finds
 * every block of the three regions; then three drive files are truncated and the guest's reads
 * must fail with a media error (Unrecovered Read Error, ENODATA in the guest), never return wrong data
 * (with three of six drives lost every 4 KiB row misses a data chunk, so every read fails). Shown
 * failing without {@code Drive.checkIntact} in the drive syncs: the truncated drive 1 is never
 * reported failed (check-one-failed).
 *
 * <p>Run (under the e2e lock, as every guest test): {@code flock /tmp/basalt-e2e.lock mvn -pl
 * storage-service -am test -Dtest=FailingDrivesKernelTest -Dsurefire.failIfNoSpecifiedTests=false}
 * after {@code src/test/guest/install-deps.sh}. Property {@code basalt.guest.fioMb} (default 8) sets
 * the size of each region; the volume is 32 MiB and each drive 64 MiB so the rebuilds and the run
 * stay short under TCG.
 */
@Tag("guest")
class FailingDrivesKernelTest {
    private static final long MIB = 1024 * 1024;
    private static final long VOLUME_SIZE = 32 * MIB;
    private static final int DRIVES = 6;
    private static final Duration GUEST_BUDGET = Duration.ofMinutes(25);
    private static final Duration REBUILD_BUDGET = Duration.ofMinutes(5);

    private final ObjectMapper json = new ObjectMapper();

    @Test
    @Timeout(value = 28, unit = TimeUnit.MINUTES)
    void hostSeesNoErrorWhileTwoDrivesFailAndAreRebuiltAndAMediaErrorBeyondThat() throws Exception {
        Path work = Path.of("target", "guest-work", "fd-" + System.currentTimeMillis()).toAbsolutePath();
        Path drives = work.resolve("drives");
        List<String> drivePaths = new ArrayList<>();
        for (int i = 0; i < DRIVES; i++) {
            drivePaths.add(drives.resolve("drive" + i + ".img").toString());
        }
        String hostId = UUID.randomUUID().toString();
        String hostNqn = QemuGuest.hostNqn(hostId);
        int fioMb = Integer.getInteger("basalt.guest.fioMb", 8);

        QemuGuest.baseGuest(); // build (or find) the guest before starting anything else
        ServiceProcess node = null;
        QemuGuest guest = null;
        boolean passed = false;
        try {
            node = ServiceProcess.start(work, "--engine.drives=" + String.join(",", drivePaths),
                    "--engine.drive-size=64MiB", "--engine.segment-size=2MiB", "--engine.erasure-code=4+2");
            final ServiceProcess service = node;
            JsonNode volume = createVolume(service, "fd-" + hostId.substring(0, 8), List.of(hostNqn));

            guest = QemuGuest.named("failing-drives")
                    .script(KernelHostTest.resource("/guest/failing-drives-test.sh"))
                    .param("HOSTNQN", hostNqn)
                    .param("HOSTID", hostId)
                    .param("TARGET_ADDR", "10.0.2.2")
                    .param("NVME_PORT", service.nvmePort())
                    .param("SUBNQN", volume.path("nqn").asText())
                    .param("VOL_UUID", volume.path("uuid").asText())
                    .param("FIO_SIZE_MB", fioMb)
                    .workDir(work)
                    .boot();

            Map<String, QemuGuest.HostAction> actions = new LinkedHashMap<>();
            actions.put("fail-first-drive", () -> truncate(drives.resolve("drive1.img")));
            actions.put("check-one-failed", () -> expectFailed(service, Map.of(1, "truncated")));
            actions.put("fail-second-drive", () -> Files.delete(drives.resolve("drive4.img")));
            actions.put("check-two-failed", () -> expectFailed(service, Map.of(1, "truncated", 4, "removed")));
            actions.put("replace-both", () -> {
                replaceAndAwaitRebuild(service, 1, drives.resolve("new1.img"));
                replaceAndAwaitRebuild(service, 4, drives.resolve("new4.img"));
                expectFailed(service, Map.of());
            });
            actions.put("fail-three-drives", () -> {
                for (int d : new int[] {0, 2, 3}) {
                    truncate(drives.resolve("drive" + d + ".img"));
                }
            });

            int rc = guest.serveRequests(actions, GUEST_BUDGET);
            String reason = guest.failureReason();
            assertEquals(0, rc, "the guest's failing-drives test failed: " + (reason != null ? reason : "exit code " + rc));
            String log = Files.readString(service.logFile());
            assertTrue(log.contains("drive 1 (" + drivePaths.get(1) + ") failed"), "the log names the failed drive 1");
            assertTrue(log.contains("drive 4 (" + drivePaths.get(4) + ") failed"), "the log names the failed drive 4");
            passed = true;
        } finally {
            QemuGuest.closeAfterTest(guest, node, passed);
            if (passed) {
                ServiceProcess.deleteTree(work.resolve("data"));
                ServiceProcess.deleteTree(drives);
            }
        }
    }

    private static void truncate(Path drive) throws Exception {
        try (FileChannel file = FileChannel.open(drive, StandardOpenOption.WRITE)) {
            file.truncate(0);
        }
        System.out.println("[test] truncated " + drive);
    }

    /** The node reports exactly these drives failed (index to a word of the reason) in the API and the metric. */
    private void expectFailed(ServiceProcess node, Map<Integer, String> expected) throws Exception {
        JsonNode list = drives(node);
        Map<Integer, String> failed = new LinkedHashMap<>();
        for (JsonNode drive : list.path("drives")) {
            if ("failed".equals(drive.path("state").asText())) {
                failed.put(drive.path("index").asInt(), drive.path("reason").asText());
            }
        }
        System.out.println("[test] failed drives: " + failed);
        assertEquals(expected.keySet(), failed.keySet(), "failed drives in GET /api/v1/drives: " + list);
        expected.forEach((index, word) -> assertTrue(failed.get(index).contains(word),
                "drive " + index + " failed for '" + failed.get(index) + "', expected it " + word));
        String metrics = node.get("/metrics").body();
        String gauge = metrics.lines().filter(l -> l.startsWith("basalt_engine_drives_failed ")).findFirst()
                .orElseThrow(() -> new AssertionError("basalt_engine_drives_failed missing from /metrics"));
        assertEquals(expected.size(), Double.parseDouble(gauge.substring(gauge.indexOf(' ') + 1)), gauge);
    }

    private void replaceAndAwaitRebuild(ServiceProcess node, int index, Path with) throws Exception {
        HttpResponse<String> r = node.sendJson("POST", "/api/v1/drives/" + index + "/replace",
                json.writeValueAsString(Map.of("path", with.toString())));
        assertEquals(202, r.statusCode(), "POST /api/v1/drives/" + index + "/replace -> " + r.body());
        long deadline = System.nanoTime() + REBUILD_BUDGET.toNanos();
        while (true) {
            JsonNode list = drives(node);
            JsonNode rebuild = list.path("rebuild");
            if (rebuild.path("drive").asInt(-1) == index && !rebuild.path("running").asBoolean(true)) {
                assertFalse(rebuild.has("error"), "the rebuild of drive " + index + " stopped short: " + rebuild);
                assertEquals("ok", list.path("drives").path(index).path("state").asText(), "drive " + index + ": " + list);
                System.out.println("[test] drive " + index + " rebuilt: " + rebuild);
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the rebuild of drive " + index + " did not end within " + REBUILD_BUDGET + ": "
                        + list);
            }
            Thread.sleep(1000);
        }
    }

    private JsonNode drives(ServiceProcess node) throws Exception {
        HttpResponse<String> r = node.get("/api/v1/drives");
        assertEquals(200, r.statusCode(), "GET /api/v1/drives -> " + r.body());
        return json.readTree(r.body());
    }

    private JsonNode createVolume(ServiceProcess node, String name, List<String> hosts) throws Exception {
        Map<String, Object> body = Map.of("name", name, "sizeBytes", VOLUME_SIZE, "hosts", hosts);
        HttpResponse<String> r = node.sendJson("POST", "/api/v1/volumes", json.writeValueAsString(body));
        assertEquals(201, r.statusCode(), "POST /api/v1/volumes " + body + " -> " + r.statusCode() + " " + r.body());
        return json.readTree(r.body());
    }
}
