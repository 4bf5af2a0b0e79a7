package io.basalt.attach;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real libvirtd and a real TCG guest: ten cycles of attaching a Basalt volume in userspace mode
 * with the CLI, a write from inside the guest to the disk that carries the volume's serial, detach,
 * and a read of the pattern back through the target with the Java host client. Each cycle must
 * leave no bridge process, no attachment record and no ACL entry of this host.
 *
 * <p>Needs root (libvirtd, /etc/libvirt/qemu.conf, the libvirt-qemu user) and the guest that
 * storage-service/src/test/guest/build-guest.sh builds (it runs here; cached after the first run).
 */
@Tag("libvirt")
class RealLibvirtTest {
    private static final int CYCLES = 10;
    private static final String DOMAIN = "basalt-attach-test";
    private static final String HOST_NQN = "nqn.2014-08.io.basalt:attach-test-host";
    private static final String READER_NQN = "nqn.2014-08.io.basalt:attach-test-reader";
    /** virtio-blk carries at most 20 bytes of serial; the guest sees the volume id cut to that. */
    private static final int VIRTIO_SERIAL_BYTES = 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The guest side: each cycle waits for the disk with the serial, writes the cycle's pattern, waits for it to go. */
    private static final String GUEST_SCRIPT = """
            . /etc/basalt-lib.sh
            . /params
            modload virtio_blk || exit 3
            find_disk() {
                for d in /sys/block/vd*; do
                    [ -f "$d/serial" ] && [ "$(cat "$d/serial")" = "$SERIAL" ] && { basename "$d"; return 0; }
                done
                return 1
            }
            i=1
            while [ $i -le %d ]; do
                n=0
                until dev=$(find_disk); do
                    n=$((n + 1)); [ $n -gt 1200 ] && { echo "CYCLE-NO-DISK $i: $(ls /sys/block) $(cat /sys/block/vd*/serial 2>&1)"; exit 4; }
                    sleep 0.1
                done
                { printf 'BASALT-PATTERN-%%04d-' $i; head -c 4096 /dev/zero; } | head -c 4096 > /tmp/pattern
                dd if=/tmp/pattern of=/dev/$dev bs=4096 count=1 conv=fsync 2>/dev/null || { echo "CYCLE-WRITE-FAILED $i"; exit 5; }
                echo "CYCLE-WROTE $i $dev"
                n=0
                while find_disk >/dev/null; do
                    n=$((n + 1)); [ $n -gt 1200 ] && { echo "CYCLE-DISK-STAYED $i"; exit 6; }
                    sleep 0.1
                done
                echo "CYCLE-GONE $i"
                i=$((i + 1))
            done
            # the host's last detach call may still be talking to QEMU: powering off now would cut it short
            sleep 10
            exit 0
            """.formatted(CYCLES);

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void tenAttachDetachCyclesWithARealGuest() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root for libvirtd");
        Path work = Files.createDirectories(Path.of("target", "libvirt-work", "run-" + System.currentTimeMillis()).toAbsolutePath());
        Path guestDir = buildGuest(work);
        try (BasaltNodeProcess node = BasaltNodeProcess.start(work);
             LibvirtDaemon daemon = LibvirtDaemon.start(work)) {
            JsonNode volume = createVolume(node, List.of(READER_NQN));
            String volumeId = volume.path("id").asText();
            Path initrd = guestInitrd(work, guestDir, volumeId.substring(0, Math.min(volumeId.length(), VIRTIO_SERIAL_BYTES)));
            Path console = work.resolve("console.log");
            Path stateDir = work.resolve("state");
            Connect libvirt = new Connect(LibvirtDaemon.URI);
            Domain guest = libvirt.domainCreateXML(domainXml(guestDir.resolve("vmlinuz"), initrd, console), 0);
            NioEventLoopGroup group = new NioEventLoopGroup(1);
            try {
                awaitConsole(console, "BASALT-GUEST-READY", 180);
                HostController reader = HostController.connect(group, HostOptions.defaults(READER_NQN), "127.0.0.1",
                        node.nvmePort, volume.path("nqn").asText()).get(30, TimeUnit.SECONDS);
                List<String> common = List.of("--domain", DOMAIN, "--volume", volumeId, "--api", node.apiUrl,
                        "--token-file", node.tokenFile.toString(),
                        "--host-nqn", HOST_NQN, "--libvirt-uri", LibvirtDaemon.URI, "--state-dir", stateDir.toString());
                try {
                    for (int i = 1; i <= CYCLES; i++) {
                        assertEquals(0, cli("attach", common, "--mode", "userspace"));
                        awaitConsole(console, "CYCLE-WROTE " + i, 150);
                        assertEquals(0, cli("detach", common));
                        awaitConsole(console, "CYCLE-GONE " + i, 120);
                        assertEquals(String.format("BASALT-PATTERN-%04d-", i), readPattern(reader, volume.path("nsid").asInt()));
                        assertNothingLeftBehind(node, volumeId, stateDir);
                    }
                } finally {
                    reader.close();
                    if (Files.exists(stateDir) && !isEmpty(stateDir)) {
                        cli("detach", common);
                        stopBridgesOf(stateDir);
                    }
                }
                awaitConsole(console, "BASALT-GUEST-EXIT 0", 120);
            } finally {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                destroy(guest);
                libvirt.close();
            }
        }
    }

    /** The guest powers itself off at the end of its script, and libvirt forgets a transient domain then. */
    private static void destroy(Domain guest) {
        try {
            guest.destroy();
        } catch (LibvirtException e) {
            // already gone
        }
    }

    private static Path buildGuest(Path work) throws IOException, InterruptedException {
        Path log = work.resolve("build-guest.log");
        Process p = new ProcessBuilder(Path.of("..", "storage-service", "src", "test", "guest", "build-guest.sh").toString())
                .redirectError(log.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(15, TimeUnit.MINUTES) && p.exitValue() == 0, "build-guest.sh failed; see " + log);
        String dir = out.lines().filter(l -> l.startsWith("GUEST_DIR=")).reduce((a, b) -> b).orElseThrow();
        return Path.of(dir.substring("GUEST_DIR=".length()));
    }

    /** The base initramfs plus a small cpio with the test script and its parameters. */
    private static Path guestInitrd(Path work, Path guestDir, String serial) throws IOException, InterruptedException {
        Path extra = Files.createDirectories(work.resolve("extra"));
        Files.writeString(extra.resolve("test.sh"), GUEST_SCRIPT);
        Files.writeString(extra.resolve("params"), "SERIAL='" + serial + "'\n");
        Path cpio = work.resolve("extra.cpio");
        Process p = new ProcessBuilder("cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet").directory(extra.toFile())
                .redirectOutput(cpio.toFile()).start();
        p.getOutputStream().write("test.sh\nparams\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "cpio failed");
        Path initrd = work.resolve("initrd.img");
        Files.write(initrd, Files.readAllBytes(guestDir.resolve("initramfs.img")));
        Files.write(initrd, Files.readAllBytes(cpio), StandardOpenOption.APPEND);
        return initrd;
    }

    /** TCG (the /dev/kvm here is unusable), q35 with spare root ports: a PCIe disk needs a free port to be hot-plugged into. */
    private static String domainXml(Path kernel, Path initrd, Path console) {
        return """
                <domain type='qemu'>
                  <name>%s</name>
                  <memory unit='MiB'>1024</memory>
                  <vcpu>2</vcpu>
                  <os>
                    <type arch='x86_64' machine='q35'>hvm</type>
                    <kernel>%s</kernel>
                    <initrd>%s</initrd>
                    <cmdline>console=ttyS0 panic=-1</cmdline>
                  </os>
                  <features><acpi/><apic/></features>
                  <cpu mode='maximum'/>
                  <on_poweroff>destroy</on_poweroff>
                  <on_reboot>destroy</on_reboot>
                  <on_crash>destroy</on_crash>
                  <devices>
                    <controller type='pci' model='pcie-root'/>
                    <controller type='pci' model='pcie-root-port'/>
                    <controller type='pci' model='pcie-root-port'/>
                    <controller type='pci' model='pcie-root-port'/>
                    <controller type='pci' model='pcie-root-port'/>
                    <controller type='usb' model='none'/>
                    <interface type='user'><model type='virtio'/></interface>
                    <serial type='file'><source path='%s'/><target port='0'/></serial>
                    <memballoon model='none'/>
                  </devices>
                </domain>""".formatted(DOMAIN, kernel, initrd, console);
    }

    private JsonNode createVolume(BasaltNodeProcess node, List<String> hosts) throws IOException, InterruptedException {
        String body = JSON.writeValueAsString(Map.of("name", "attach-test", "sizeBytes", 64L << 20, "hosts", hosts));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(node.apiUrl + "/api/v1/volumes"))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + node.token).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /** Runs the CLI as bin/basalt would; a failure's message goes to the test's output. */
    private static int cli(String command, List<String> options, String... more) {
        List<String> args = new ArrayList<>(List.of(command));
        args.addAll(options);
        args.addAll(List.of(more));
        return AttachMain.run(args.toArray(String[]::new), System.out, System.out);
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.findAny().isEmpty();
        }
    }

    /** After a failed cycle: no bridge of this test may outlive it. */
    private static void stopBridgesOf(Path stateDir) {
        ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("--socket " + stateDir))
                .forEach(ProcessHandle::destroyForcibly);
    }

    private static void awaitConsole(Path console, String marker, int seconds) throws IOException, InterruptedException {
        Instant deadline = Instant.now().plusSeconds(seconds);
        while (true) {
            String text = Files.exists(console) ? Files.readString(console) : "";
            // a whole word at the start of a line: "CYCLE-GONE 1" must not match "CYCLE-GONE 10"
            if (text.lines().map(String::strip).anyMatch(l -> l.equals(marker) || l.startsWith(marker + " "))) {
                return;
            }
            assertTrue(Instant.now().isBefore(deadline), "no '" + marker + "' on the guest console within "
                    + seconds + " s; console ends with:\n" + text.substring(Math.max(0, text.length() - 3000)));
            Thread.sleep(200);
        }
    }

    private static String readPattern(HostController reader, int nsid) throws Exception {
        ByteBuf block = Unpooled.directBuffer(4096);
        try {
            CompletableFuture<Integer> done = new CompletableFuture<>();
            reader.ioQueue(0).eventLoop().execute(() -> reader.read(nsid, 0, 1, block, (status, result) -> done.complete(status)));
            assertEquals(0, done.get(30, TimeUnit.SECONDS), "read status");
            byte[] head = new byte[20];
            block.getBytes(0, head);
            return new String(head, StandardCharsets.US_ASCII);
        } finally {
            block.release();
        }
    }

    private void assertNothingLeftBehind(BasaltNodeProcess node, String volumeId, Path stateDir) throws Exception {
        try (Stream<Path> files = Files.exists(stateDir) ? Files.list(stateDir) : Stream.empty()) {
            assertEquals(List.of(), files.filter(f -> !f.getFileName().toString().startsWith(".")).toList(), "state left behind");
        }
        assertTrue(ProcessHandle.allProcesses().noneMatch(p -> p.info().commandLine().orElse("").contains(stateDir.toString())),
                "a bridge still runs");
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(node.apiUrl + "/api/v1/volumes/" + volumeId))
                        .header("Authorization", "Bearer " + node.token).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(List.of(READER_NQN), JSON.convertValue(JSON.readTree(r.body()).path("hosts"), List.class));
    }
}
