package io.basalt.service.guest;

import io.basalt.nvmetcp.auth.DhGroup;
import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.auth.DhchapHash;
import io.basalt.nvmetcp.auth.DhchapKey;
import io.basalt.nvmetcp.auth.DhchapPolicy;
import io.basalt.nvmetcp.nvmet.MemoryBlockDevice;
import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.NvmeTarget;
import io.basalt.nvmetcp.nvmet.Subsystem;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.basalt.nvmetcp.nvmet.TargetPort;
import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * In-band authentication (DH-HMAC-CHAP) with a real Linux host: Debian 12's 6.12 kernel, whose
 * nvme-core has CONFIG_NVME_HOST_AUTH, and nvme-cli 2.3's {@code --dhchap-secret} and
 * {@code --dhchap-ctrl-secret}, in a QEMU guest. The guest side is
 * {@code src/test/resources/guest/auth-host-test.sh}: unidirectional and bidirectional
 * authentication with each hash (and with and without a Diffie-Hellman exchange) followed by
 * verified fio I/O, then a wrong host secret, no secret and a wrong controller secret refused.
 *
 * <p>The targets run in this JVM, three of them so that each negotiates other parameters, over one
 * namespace in memory: what is under test is the protocol against Linux, not the node.
 * Run: {@code mvn -pl storage-service -am test -Dtest=KernelAuthenticationTest
 * -Dsurefire.failIfNoSpecifiedTests=false} (the first run builds the 6.12 guest).
 */
@Tag("guest")
class KernelAuthenticationTest {
    private static final String SUBNQN = "nqn.2026-12.io.basalt:auth-test";
    /** Printed by nvme gen-dhchap-key (nvme-cli 2.3): SHA-256 transformed, SHA-512 transformed, none. */
    private static final String HOST_SECRET = "DHHC-1:01:bHuByyp0b3RFSx1xQPMVO1HKmUWfzveoahfydpW4fNgSLMVm:";
    private static final String CTRL_SECRET =
            "DHHC-1:03:CIYHlK5JxlO9C2rI0JEMdwh0j093zH/0nQ6GiQQR0xNMH9JNL4XSIdQ7gyv7TvwLvxW8g2tQLC+ceGqGsYHm/rKgyBM=:";
    private static final String WRONG_SECRET = "DHHC-1:00:iIUAnmnqGpUWVsXpOuB0Fx+lwU0tgouGmxPqXYf8bMmdqnRi:";

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void linux612AuthenticatesWithDhHmacChap() throws Exception {
        Path work = Path.of("target", "guest-work", "kernel-auth-" + System.currentTimeMillis());
        String hostId = UUID.randomUUID().toString();
        String hostNqn = QemuGuest.hostNqn(hostId);
        UUID nsUuid = UUID.randomUUID();
        QemuGuest.baseGuest(QemuGuest.KERNEL_6_12);

        NioEventLoopGroup group = new NioEventLoopGroup(2);
        MemoryBlockDevice device = new MemoryBlockDevice(4096, 16384);
        List<NvmeTarget> targets = new ArrayList<>();
        QemuGuest guest = null;
        boolean passed = false;
        try {
            Subsystem subsystem = new Subsystem(SUBNQN, "BASALT-AUTH", "Basalt auth test");
            subsystem.addNamespace(new Namespace(1, nsUuid, new byte[16], device, Set.of(hostNqn)));
            DhchapCredentials hostOnly = new DhchapCredentials(DhchapKey.parse(HOST_SECRET), null);
            DhchapCredentials both = new DhchapCredentials(DhchapKey.parse(HOST_SECRET), DhchapKey.parse(CTRL_SECRET));
            int uni = start(targets, group, subsystem, Map.of(hostNqn, hostOnly), DhchapHash.SHA_256, DhGroup.FFDHE2048);
            int bi = start(targets, group, subsystem, Map.of(hostNqn, both), DhchapHash.SHA_512, DhGroup.NULL);
            int biDh = start(targets, group, subsystem, Map.of(hostNqn, both), DhchapHash.SHA_384, DhGroup.FFDHE4096);

            guest = QemuGuest.named("kernel-auth")
                    .kernel(QemuGuest.KERNEL_6_12)
                    .script(KernelHostTest.resource("/guest/auth-host-test.sh"))
                    .param("HOSTNQN", hostNqn)
                    .param("HOSTID", hostId)
                    .param("TARGET_ADDR", "10.0.2.2")
                    .param("SUBNQN", SUBNQN)
                    .param("NS_UUID", nsUuid)
                    .param("PORT_UNI", uni)
                    .param("PORT_BI", bi)
                    .param("PORT_BI_DH", biDh)
                    .param("HOST_SECRET", HOST_SECRET)
                    .param("CTRL_SECRET", CTRL_SECRET)
                    .param("WRONG_SECRET", WRONG_SECRET)
                    .workDir(work)
                    .boot();
            int rc = guest.awaitExit(Duration.ofMinutes(15));
            assertEquals(0, rc, "guest failed: " + guest.failureReason());
            assertTrue(guest.consoleLog().contains("BASALT-TEST-PASS"), "the guest script did not finish");
            // Each authenticated connect covers the admin queue and every I/O queue (one per guest CPU).
            for (NvmeTarget t : targets) {
                assertTrue(t.authenticationCount() >= 2, "queues authenticated: " + t.authenticationCount());
            }
            assertTrue(targets.get(0).authenticationFailureCount() >= 2, "wrong and missing host secrets are counted");
            assertTrue(targets.get(1).authenticationFailureCount() >= 1, "the host's Failure2 is counted");
            passed = true;
        } finally {
            if (guest != null) {
                if (!passed) {
                    guest.printConsole(System.out);
                }
                guest.close();
            }
            targets.forEach(NvmeTarget::close);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static int start(List<NvmeTarget> targets, NioEventLoopGroup group, Subsystem subsystem,
                             Map<String, DhchapCredentials> secrets, DhchapHash hash, DhGroup dhGroup) throws Exception {
        NvmeTarget target = new NvmeTarget(TargetOptions.defaults("BASALT-AUTH"), group);
        targets.add(target);
        target.addSubsystem(subsystem);
        target.authentication(secrets::get, new DhchapPolicy(List.of(hash), List.of(dhGroup), Duration.ofSeconds(60)));
        return target.listen(new TargetPort("127.0.0.1", 0, "127.0.0.1", false)).get(10, TimeUnit.SECONDS).getPort();
    }
}
