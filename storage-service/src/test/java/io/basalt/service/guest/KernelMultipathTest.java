package io.basalt.service.guest;

import io.basalt.nvmetcp.nvmet.AnaState;
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

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ANA multipath with a real Linux host: Debian 12's kernel (native NVMe multipath, nvme_core's
 * default) connects one subsystem through two ports of a target; the namespace's ANA group is
 * optimized through port A and inaccessible through port B. While fio writes with verification
 * the test makes B optimized and A inaccessible: the kernel must read the new states after the
 * ANA change notice, fio must see no error, and the writes must move to B's path. The guest side
 * is {@code src/test/resources/guest/multipath-host-test.sh}. It found two defects the Java host did
 * not: the Identify Controller ANA fields one byte late (Linux disabled ANA: no {@code ana_state}) and
 * the ANA log refusing the second 4 KiB piece nvme-cli reads ({@code nvme ana-log} failed).
 *
 * <p>The target runs in this JVM over a namespace in memory: what is under test is the protocol
 * against Linux. Run under {@code flock /tmp/basalt-e2e.lock}: {@code mvn -pl storage-service -am
 * test -Dtest=KernelMultipathTest -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("guest")
class KernelMultipathTest {
    private static final String SUBNQN = "nqn.2026-12.io.basalt:multipath-test";
    private static final int ANA_GROUP = 7;

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void linuxFollowsAnaStateChangesWithoutAnIoError() throws Exception {
        Path work = Path.of("target", "guest-work", "kernel-multipath-" + System.currentTimeMillis());
        String hostId = UUID.randomUUID().toString();
        String hostNqn = QemuGuest.hostNqn(hostId);
        UUID nsUuid = UUID.randomUUID();
        byte[] nguid = new byte[16];
        nguid[0] = 0x42;
        nguid[15] = 0x07;
        QemuGuest.baseGuest();

        NioEventLoopGroup group = new NioEventLoopGroup(2);
        NvmeTarget target = new NvmeTarget(TargetOptions.defaults("BASALT-MPATH"), group);
        QemuGuest guest = null;
        boolean passed = false;
        try {
            Subsystem subsystem = new Subsystem(SUBNQN, "BASALT-MPATH", "Basalt multipath test");
            subsystem.addNamespace(new Namespace(1, nsUuid, nguid, new MemoryBlockDevice(4096, 16384),
                    Set.of(hostNqn), ANA_GROUP));
            target.addSubsystem(subsystem);
            InetSocketAddress portA = target.listen(new TargetPort("127.0.0.1", 0, "127.0.0.1", false))
                    .get(10, TimeUnit.SECONDS);
            InetSocketAddress portB = target.listen(new TargetPort("127.0.0.1", 0, "127.0.0.1", false))
                    .get(10, TimeUnit.SECONDS);
            target.anaState(portB, SUBNQN, ANA_GROUP, AnaState.INACCESSIBLE);

            guest = QemuGuest.named("kernel-multipath")
                    .script(KernelHostTest.resource("/guest/multipath-host-test.sh"))
                    .param("HOSTNQN", hostNqn)
                    .param("HOSTID", hostId)
                    .param("TARGET_ADDR", "10.0.2.2")
                    .param("SUBNQN", SUBNQN)
                    .param("NS_UUID", nsUuid)
                    .param("ANA_GROUP", ANA_GROUP)
                    .param("PORT_A", portA.getPort())
                    .param("PORT_B", portB.getPort())
                    .workDir(work)
                    .boot();
            guest.awaitLine(Pattern.compile("BASALT-ANA-FLIP$|BASALT-TEST-FAIL"), Duration.ofMinutes(10));
            assertTrue(guest.failureReason() == null, "before the flip: " + guest.failureReason());
            target.anaState(portB, SUBNQN, ANA_GROUP, AnaState.OPTIMIZED);
            target.anaState(portA, SUBNQN, ANA_GROUP, AnaState.INACCESSIBLE);

            int rc = guest.awaitExit(Duration.ofMinutes(8));
            assertEquals(0, rc, "guest failed: " + guest.failureReason());
            assertTrue(guest.consoleLog().contains("BASALT-TEST-PASS"), "the guest script did not finish");
            passed = true;
        } finally {
            if (guest != null) {
                if (!passed) {
                    guest.printConsole(System.out);
                }
                guest.close();
            }
            target.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
