package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.auth.AuthMessages;
import io.basalt.nvmetcp.auth.DhGroup;
import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.auth.DhchapHash;
import io.basalt.nvmetcp.auth.DhchapKey;
import io.basalt.nvmetcp.auth.DhchapPolicy;
import io.basalt.nvmetcp.auth.HostAuthentication;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.EmbeddedHost.Completion;
import io.basalt.nvmetcp.pdu.Pdu;
import io.basalt.nvmetcp.protocol.TestDevice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.concurrent.ImmediateEventExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.basalt.nvmetcp.nvmet.EmbeddedHost.HOST_NQN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The target's side of in-band authentication, command by command, with a host that follows no script. */
class TargetAuthenticationTest {
    private static final String SUBNQN = "nqn.2026-11.io.basalt:subsystem:auth";
    /** A subsystem with credentials of its own for every host, as a cluster's replica subsystems have. */
    private static final String OWN_SUBNQN = "nqn.2026-11.io.basalt:subsystem:own-credentials";
    private static final DhchapCredentials OWN_CREDENTIALS = new DhchapCredentials(DhchapKey.of(0, new byte[32]), null);
    private static final String OTHER_HOST = "nqn.2014-08.org.nvmexpress:uuid:99999999-2222-3333-4444-555555555555";
    private static final DhchapCredentials CREDENTIALS = new DhchapCredentials(
            DhchapKey.parse("DHHC-1:01:bHuByyp0b3RFSx1xQPMVO1HKmUWfzveoahfydpW4fNgSLMVm:"), null);
    private static final int CC_ENABLE = 0x00460001;
    private final UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(true);
    private final List<EmbeddedHost> hosts = new ArrayList<>();
    private NvmeTarget nvme;

    @BeforeEach
    void setUp() {
        nvme = new NvmeTarget(new TargetOptions(4, 32, 4096, 4096, 1 << 20, "BASALT-TEST"), null);
        Subsystem subsystem = new Subsystem(SUBNQN, "BASALT-TEST", "Basalt test");
        subsystem.addNamespace(new Namespace(1, UUID.randomUUID(), new byte[16], new TestDevice(512, 64, Runnable::run),
                Set.of(HOST_NQN, OTHER_HOST)));
        nvme.addSubsystem(subsystem);
        Subsystem own = new Subsystem(OWN_SUBNQN, "BASALT-OWN", "Basalt test");
        own.addNamespace(new Namespace(1, UUID.randomUUID(), new byte[16], new TestDevice(512, 64, Runnable::run),
                Set.of(HOST_NQN, OTHER_HOST)));
        own.authenticateEveryHost(hostNqn -> OWN_CREDENTIALS);
        nvme.addSubsystem(own);
        nvme.runAuthenticationOn(ImmediateEventExecutor.INSTANCE);
        nvme.authentication(Map.of(HOST_NQN, CREDENTIALS)::get,
                new DhchapPolicy(List.of(DhchapHash.SHA_256), List.of(DhGroup.FFDHE2048), Duration.ofSeconds(2)));
    }

    @AfterEach
    void noBufferLeaks() {
        hosts.forEach(EmbeddedHost::close);
        assertEquals(0, alloc.metric().usedDirectMemory(), "direct memory still held by the target");
    }

    private EmbeddedHost connected(String hostNqn, int expectedAuthreq) {
        return connected(SUBNQN, hostNqn, expectedAuthreq);
    }

    private EmbeddedHost connected(String subnqn, String hostNqn, int expectedAuthreq) {
        EmbeddedHost host = new EmbeddedHost(nvme, alloc);
        hosts.add(host);
        host.initialize(false, false);
        Completion c = single(host.command(EmbeddedHost.connect(0, 32, 0), EmbeddedHost.connectData(subnqn, hostNqn, 0xFFFF)));
        assertEquals(Status.SUCCESS, c.status());
        assertEquals(expectedAuthreq, c.dw0() & 0xFFFF0000, "AUTHREQ of the Connect result");
        return host;
    }

    private static Completion single(List<ByteBuf> frames) {
        return Completion.of(frames.get(frames.size() - 1));
    }

    private static ByteBuf authSqe(int fctype, int length) {
        ByteBuf sqe = EmbeddedHost.sqe(Opcodes.FABRICS);
        sqe.setByte(Sqe.FCTYPE, fctype);
        sqe.setByte(Sqe.CDW10 + 1, 1);
        sqe.setByte(Sqe.CDW10 + 2, 1);
        sqe.setByte(Sqe.CDW10 + 3, 0xE9);
        sqe.setIntLE(Sqe.CDW11, length);
        return sqe;
    }

    private static int send(EmbeddedHost host, byte[] message) {
        return single(host.command(authSqe(Opcodes.FCTYPE_AUTHENTICATION_SEND, message.length),
                Unpooled.wrappedBuffer(message))).status();
    }

    /** Authentication Receive; returns the message (the whole transfer) or null when it failed. */
    private static byte[] receive(EmbeddedHost host, int length) {
        List<ByteBuf> frames = host.command(EmbeddedHost.withTransfer(
                authSqe(Opcodes.FCTYPE_AUTHENTICATION_RECEIVE, length), length), null);
        if (Completion.of(frames.get(frames.size() - 1)).status() != Status.SUCCESS) {
            return null;
        }
        ByteBuf data = frames.get(0);
        assertEquals(Pdu.C2H_DATA, Pdu.type(data));
        return ByteBufUtil.getBytes(data, data.readerIndex() + Pdu.hlen(data), length);
    }

    @Test
    void commandsOtherThanAuthenticationWaitForIt() {
        EmbeddedHost host = connected(HOST_NQN, Authentication.CONNECT_AUTHREQ_ATR);
        assertEquals(Status.AUTHENTICATION_REQUIRED | Status.DNR,
                single(host.command(EmbeddedHost.propertySet(Opcodes.PROP_CC, CC_ENABLE), null)).status());
        assertEquals(Status.AUTHENTICATION_REQUIRED | Status.DNR,
                single(host.command(EmbeddedHost.sqe(Opcodes.ADMIN_KEEP_ALIVE), null)).status());
    }

    @Test
    void transactionOverTheWireThenTheControllerServes() throws Exception {
        EmbeddedHost host = connected(HOST_NQN, Authentication.CONNECT_AUTHREQ_ATR);
        HostAuthentication auth = new HostAuthentication(CREDENTIALS, HOST_NQN, SUBNQN, 7, new SecureRandom());
        assertEquals(Status.SUCCESS, send(host, auth.negotiate()));
        assertEquals(Status.SUCCESS, send(host, auth.reply(receive(host, 4096))));
        assertNull(auth.success2(receive(host, 64)));
        assertEquals(Status.SUCCESS, single(host.command(EmbeddedHost.propertySet(Opcodes.PROP_CC, CC_ENABLE), null)).status());
        assertEquals(1, nvme.authenticationCount());
    }

    /**
     * A subsystem with credentials of its own makes every host authenticate, one the target holds no
     * secret for too, and with the subsystem's credentials, not the target's (shown failing without
     * {@code Subsystem#ownCredentials} asked: no AUTHREQ for the other host).
     */
    @Test
    void aSubsystemWithCredentialsOfItsOwnMakesEveryHostAuthenticateWithThem() throws Exception {
        EmbeddedHost other = connected(OWN_SUBNQN, OTHER_HOST, Authentication.CONNECT_AUTHREQ_ATR);
        assertEquals(Status.AUTHENTICATION_REQUIRED | Status.DNR,
                single(other.command(EmbeddedHost.propertySet(Opcodes.PROP_CC, CC_ENABLE), null)).status());

        EmbeddedHost host = connected(OWN_SUBNQN, HOST_NQN, Authentication.CONNECT_AUTHREQ_ATR);
        HostAuthentication auth = new HostAuthentication(OWN_CREDENTIALS, HOST_NQN, OWN_SUBNQN, 7, new SecureRandom());
        assertEquals(Status.SUCCESS, send(host, auth.negotiate()));
        assertEquals(Status.SUCCESS, send(host, auth.reply(receive(host, 4096))));
        assertNull(auth.success2(receive(host, 64)));
        assertEquals(Status.SUCCESS, single(host.command(EmbeddedHost.propertySet(Opcodes.PROP_CC, CC_ENABLE), null)).status());
    }

    @Test
    void malformedAuthenticationCommandsAreInvalid() {
        EmbeddedHost host = connected(HOST_NQN, Authentication.CONNECT_AUTHREQ_ATR);
        ByteBuf wrongProtocol = authSqe(Opcodes.FCTYPE_AUTHENTICATION_SEND, 16);
        wrongProtocol.setByte(Sqe.CDW10 + 3, 0xEA);
        assertEquals(Status.INVALID_FIELD | Status.DNR, single(host.command(wrongProtocol, Unpooled.buffer(16).writeZero(16))).status());
        assertEquals(Status.INVALID_FIELD | Status.DNR,
                single(host.command(authSqe(Opcodes.FCTYPE_AUTHENTICATION_SEND, 0), Unpooled.buffer(16).writeZero(16))).status());
        assertEquals(Status.SGL_DATA_LENGTH_INVALID | Status.DNR,
                single(host.command(authSqe(Opcodes.FCTYPE_AUTHENTICATION_SEND, 32), Unpooled.buffer(16).writeZero(16))).status());
        assertEquals(Status.INVALID_FIELD | Status.DNR,
                single(host.command(authSqe(Opcodes.FCTYPE_AUTHENTICATION_SEND, AuthMessages.MAX_MESSAGE_LENGTH + 4),
                        Unpooled.buffer(16).writeZero(16))).status());
        assertNull(receive(host, 4), "an allocation length below a failure message is invalid");
        assertEquals(0, nvme.authenticationFailureCount(), "malformed commands do not start a transaction");
    }

    @Test
    void outOfOrderReceiveGetsFailure1AndEndsTheController() {
        EmbeddedHost host = connected(HOST_NQN, Authentication.CONNECT_AUTHREQ_ATR);
        byte[] failure1 = receive(host, 64);
        assertEquals(0x00, failure1[0] & 0xFF, "AUTH_Type: common message");
        assertEquals(0xF1, failure1[1] & 0xFF, "AUTH_Id: Failure1");
        assertEquals(AuthMessages.REASON_INCORRECT_MESSAGE, failure1[7]);
        host.target.runPendingTasks();
        assertFalse(host.target.isActive());
        assertEquals(1, nvme.authenticationFailureCount());
        assertEquals(0, nvme.controllerCount());
    }

    @Test
    void queueNotAuthenticatedByTheDeadlineIsClosed() {
        EmbeddedHost host = connected(HOST_NQN, Authentication.CONNECT_AUTHREQ_ATR);
        host.target.advanceTimeBy(1, TimeUnit.SECONDS);
        host.target.runScheduledPendingTasks();
        assertTrue(host.target.isActive(), "still within the deadline");
        host.target.advanceTimeBy(2, TimeUnit.SECONDS);
        host.target.runScheduledPendingTasks();
        host.target.runPendingTasks();
        assertFalse(host.target.isActive());
        assertEquals(1, nvme.authenticationFailureCount());
    }

    @Test
    void hostWithoutSecretIsNotAskedToAuthenticate() {
        EmbeddedHost host = connected(OTHER_HOST, 0);
        assertEquals(Status.COMMAND_SEQUENCE_ERROR | Status.DNR, send(host, new byte[16]));
        assertEquals(Status.SUCCESS, single(host.command(EmbeddedHost.propertySet(Opcodes.PROP_CC, CC_ENABLE), null)).status());
    }
}
