package io.basalt.attach.kernel;

import io.basalt.attach.AttachException;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.api.Portal;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The nvme-cli command lines of kernel mode and their error paths, with a script standing in for
 * {@code nvme} that records its arguments (this machine has no nvme-tcp module to connect with).
 */
class NvmeCliTest {
    private static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
    private static final String SUBNQN = "nqn.2026-11.io.basalt:subsystem:x";

    @TempDir
    Path dir;
    private Path calls;

    @BeforeEach
    void setUp() {
        calls = dir.resolve("calls");
    }

    /** A fake nvme that logs its arguments and runs {@code behaviour} (shell) to decide its exit. */
    private NvmeCli cli(String behaviour, Duration timeout) throws IOException {
        Path script = dir.resolve("nvme");
        Files.writeString(script, "#!/bin/sh\necho \"$*\" >> '" + calls + "'\n" + behaviour + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return new NvmeCli(script.toString(), timeout);
    }

    private static Volume volume(Portal... portals) {
        return new Volume("v1", "a", "default", 1 << 20, false, 1, SUBNQN, 1,
                UUID.fromString("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"), "aaaaaaaabbbbccccddddeeeeeeeeeeee", List.of(),
                List.of(portals), null, null, null);
    }

    private List<String> calls() throws IOException {
        return Files.readAllLines(calls);
    }

    @Test
    void connectsToEveryPortalTheWayOsBrickDoes() throws Exception {
        cli("exit 0", Duration.ofSeconds(10)).connect(volume(new Portal("tcp", "192.0.2.1", 4420),
                new Portal("tcp", "192.0.2.2", 4420)), HOST);
        assertEquals(List.of(
                "connect -t tcp -a 192.0.2.1 -s 4420 -n " + SUBNQN + " -q " + HOST + " -l -1",
                "connect -t tcp -a 192.0.2.2 -s 4420 -n " + SUBNQN + " -q " + HOST + " -l -1"), calls());
    }

    @Test
    void oneReachablePortalIsEnoughAndAnExistingControllerCounts() throws Exception {
        cli("case \"$*\" in *192.0.2.1*) echo unreachable; exit 1;; *) exit 114;; esac", Duration.ofSeconds(10))
                .connect(volume(new Portal("tcp", "192.0.2.1", 4420),
                        new Portal("tcp", "192.0.2.2", 4420)), HOST);
        assertEquals(2, calls().size());
    }

    @Test
    void everyPortalFailingIsAClearErrorNamingThem() throws Exception {
        NvmeCli nvme = cli("echo 'could not add new controller: Connection refused'; exit 1", Duration.ofSeconds(10));
        AttachException e = assertThrows(AttachException.class, () -> nvme.connect(volume(
                new Portal("tcp", "192.0.2.1", 4420), new Portal("rdma", "192.0.2.3", 4420)), HOST));
        assertTrue(e.getMessage().contains("192.0.2.1:4420: could not add new controller"), e.getMessage());
        assertTrue(e.getMessage().contains("transport rdma not supported"), e.getMessage());
        assertEquals(1, calls().size(), "no nvme call for a non-TCP portal");
    }

    @Test
    void aHangingNvmeIsStoppedAtTheTimeout() throws Exception {
        NvmeCli nvme = cli("sleep 30", Duration.ofMillis(500));
        AttachException e = assertThrows(AttachException.class, () -> nvme.disconnect(SUBNQN));
        assertTrue(e.getMessage().contains("did not finish"), e.getMessage());
    }

    @Test
    void failedDisconnectCarriesNvmeOutput() throws Exception {
        NvmeCli nvme = cli("echo 'no controller found'; exit 1", Duration.ofSeconds(10));
        AttachException e = assertThrows(AttachException.class, () -> nvme.disconnect(SUBNQN));
        assertEquals(List.of("disconnect -n " + SUBNQN), calls());
        assertTrue(e.getMessage().contains("no controller found"), e.getMessage());
    }
}
