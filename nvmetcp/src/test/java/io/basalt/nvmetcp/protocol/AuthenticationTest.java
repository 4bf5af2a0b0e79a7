package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.auth.DhGroup;
import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.auth.DhchapHash;
import io.basalt.nvmetcp.auth.DhchapKey;
import io.basalt.nvmetcp.auth.DhchapPolicy;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.NvmeAuthenticationException;
import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DH-HMAC-CHAP between the real target and the real host client over TCP. */
class AuthenticationTest {
    private static final DhchapKey HOST_KEY = DhchapKey.parse("DHHC-1:01:bHuByyp0b3RFSx1xQPMVO1HKmUWfzveoahfydpW4fNgSLMVm:");
    private static final DhchapKey CONTROLLER_KEY = DhchapKey.parse(
            "DHHC-1:03:CIYHlK5JxlO9C2rI0JEMdwh0j093zH/0nQ6GiQQR0xNMH9JNL4XSIdQ7gyv7TvwLvxW8g2tQLC+ceGqGsYHm/rKgyBM=:");
    private static final DhchapKey WRONG_KEY = DhchapKey.parse("DHHC-1:00:iIUAnmnqGpUWVsXpOuB0Fx+lwU0tgouGmxPqXYf8bMmdqnRi:");
    private LiveTarget live;

    @BeforeEach
    void start() {
        live = LiveTarget.start();
    }

    @AfterEach
    void stop() {
        live.close();
    }

    private void secrets(DhchapCredentials credentials, DhchapPolicy policy) {
        live.target.authentication(Map.of(LiveTarget.HOST, credentials)::get, policy);
    }

    private static DhchapPolicy only(DhchapHash hash, DhGroup group) {
        return new DhchapPolicy(List.of(hash), List.of(group), Duration.ofSeconds(5));
    }

    @Test
    void unidirectionalAuthenticationOnEveryQueueThenIo() {
        secrets(new DhchapCredentials(HOST_KEY, null), DhchapPolicy.defaults());
        HostController c = live.connect(LiveTarget.hostOptions().withDhchap(new DhchapCredentials(HOST_KEY, null)));
        writeAndReadBack(c);
        assertEquals(3, live.target.authenticationCount(), "admin queue and both I/O queues");
        assertEquals(0, live.target.authenticationFailureCount());
    }

    @Test
    void bidirectionalWithEveryHash() {
        DhchapCredentials both = new DhchapCredentials(HOST_KEY, CONTROLLER_KEY);
        DhGroup[] groups = {DhGroup.NULL, DhGroup.FFDHE3072, DhGroup.FFDHE2048};
        for (DhchapHash hash : DhchapHash.values()) {
            secrets(both, only(hash, groups[hash.ordinal()]));
            HostController c = live.connect(LiveTarget.hostOptions().withDhchap(both));
            writeAndReadBack(c);
            c.close();
        }
        // Bidirectional: counted when the target receives the host's Success2, which the host sends and
        // goes on without an answer; the last queue's may arrive after the host closed (a 10th never does).
        LiveTarget.eventually("three queues of three connections counted", () -> live.target.authenticationCount() == 9);
    }

    @Test
    void reauthenticationOnTheAdminQueue() {
        DhchapCredentials both = new DhchapCredentials(HOST_KEY, CONTROLLER_KEY);
        secrets(both, DhchapPolicy.defaults());
        HostController c = live.connect(LiveTarget.hostOptions().withDhchap(both));
        IoResult.await(c.reauthenticate());
        IoResult.await(c.reauthenticate());
        writeAndReadBack(c);
        assertEquals(0, live.target.authenticationFailureCount());
    }

    @Test
    void wrongHostSecretIsRefusedAndCounted() {
        secrets(new DhchapCredentials(HOST_KEY, null), DhchapPolicy.defaults());
        Throwable e = IoResult.failure(live.connectAsync(
                LiveTarget.hostOptions().withDhchap(new DhchapCredentials(WRONG_KEY, null)), LiveTarget.SUBNQN));
        assertInstanceOf(NvmeAuthenticationException.class, e);
        // Counted when the target settles the transaction, which may come after the host read the failure.
        LiveTarget.eventually("the failure is counted", () -> live.target.authenticationFailureCount() == 1);
        LiveTarget.eventually("the controller is gone", () -> live.target.controllerCount() == 0
                && live.target.connectionCount() == 0);
    }

    @Test
    void wrongControllerSecretIsRefusedByTheHost() {
        secrets(new DhchapCredentials(HOST_KEY, WRONG_KEY), DhchapPolicy.defaults());
        Throwable e = IoResult.failure(live.connectAsync(
                LiveTarget.hostOptions().withDhchap(new DhchapCredentials(HOST_KEY, CONTROLLER_KEY)), LiveTarget.SUBNQN));
        assertInstanceOf(NvmeAuthenticationException.class, e);
        LiveTarget.eventually("the host's Failure2 is counted", () -> live.target.authenticationFailureCount() == 1);
        LiveTarget.eventually("the controller is gone", () -> live.target.controllerCount() == 0);
    }

    @Test
    void hostWithoutSecretCannotConnect() {
        secrets(new DhchapCredentials(HOST_KEY, null), DhchapPolicy.defaults());
        Throwable e = IoResult.failure(live.connectAsync(LiveTarget.hostOptions(), LiveTarget.SUBNQN));
        assertInstanceOf(NvmeAuthenticationException.class, e);
        assertTrue(e.getMessage().contains("no DH-HMAC-CHAP secret"), e.getMessage());
        LiveTarget.eventually("the abandoned queue is counted", () -> live.target.authenticationFailureCount() == 1);
    }

    private void writeAndReadBack(HostController c) {
        ByteBuf src = Unpooled.buffer(4096).writeBytes(new byte[4096]);
        src.setByte(0, 0x5A);
        src.setByte(4095, 0xA5);
        IoResult written = new IoResult();
        c.write(1, 8, 8, src, false, written);
        assertEquals(Status.SUCCESS, written.status());
        ByteBuf dst = Unpooled.buffer(4096);
        IoResult read = new IoResult();
        c.read(1, 8, 8, dst, read);
        assertEquals(Status.SUCCESS, read.status());
        assertEquals(src.setIndex(0, 4096), dst.setIndex(0, 4096));
        src.release();
        dst.release();
    }
}
