package io.basalt.service.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Checks the guest harness itself, without Basalt: runs the same guest script as
 * {@link KernelHostTest} against the guest kernel's own NVMe/TCP target (nvmet over 127.0.0.1
 * inside the guest, configured by {@code guest/nvmet-standin-hooks.sh}). If this fails, the
 * harness (guest image, modules, nvme-cli, fio, console protocol) is broken, not Basalt.
 */
@Tag("guest")
class GuestHarnessSelfCheckTest {

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void kernelHostScriptPassesAgainstLinuxNvmet() throws Exception {
        String hostId = UUID.randomUUID().toString();
        Path work = Path.of("target", "guest-work", "self-check-" + System.currentTimeMillis());
        boolean passed = false;
        try (QemuGuest guest = QemuGuest.named("self-check")
                .script(KernelHostTest.resource("/guest/kernel-host-test.sh"))
                .file("test-hooks.sh", KernelHostTest.resource("/guest/nvmet-standin-hooks.sh"))
                .param("HOSTNQN", QemuGuest.hostNqn(hostId))
                .param("HOSTID", hostId)
                .param("TARGET_ADDR", "127.0.0.1")
                .param("NVME_PORT", 4420)
                .param("DISCOVERY_PORT", 8009)
                .param("SUBNQN", "nqn.2024-01.io.basalt.selfcheck:subsystem")
                .param("VOL_A_UUID", UUID.randomUUID())
                .param("VOL_A_SIZE", 256L << 20)
                .param("VOL_B_UUID", UUID.randomUUID())
                .param("VOL_B_SIZE", 64L << 20)
                .param("FIO_SIZE_MB", 64)
                // nvmet-tcp and nvme-tcp in one kernel over loopback trip hardened usercopy on 6.1
                .kernelArg("hardened_usercopy=off")
                .workDir(work)
                .boot()) {
            try {
                // the stand-in hooks act as the host themselves once told "go"
                QemuGuest.HostAction nothing = () -> { };
                int rc = guest.serveRequests(Map.of("restart-service", nothing, "allow-volume-b", nothing,
                        "measure-space", nothing, "check-space-shrank", nothing), Duration.ofMinutes(9));
                assertEquals(0, rc, "guest self-check failed: " + guest.failureReason());
                passed = true;
            } finally {
                if (!passed) {
                    guest.printConsole(System.out);
                }
            }
        }
    }
}
