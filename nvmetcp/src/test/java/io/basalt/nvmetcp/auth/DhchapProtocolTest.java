package io.basalt.nvmetcp.auth;

import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DhchapProtocolTest {
    private static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001";
    private static final String SUBSYSTEM = "nqn.2024-01.io.basalt:node";
    private static final DhchapKey HOST_KEY = DhchapKey.parse("DHHC-1:01:bHuByyp0b3RFSx1xQPMVO1HKmUWfzveoahfydpW4fNgSLMVm:");
    private static final DhchapKey CONTROLLER_KEY = DhchapKey.parse(
            "DHHC-1:02:3BZaD7MyOil/lDyefnnxUY06ShITDcQwq+O+CCrRFoRJCc/1dvwwoEQCXfDXVuCk4C+o4w==:");
    private static final DhchapKey OTHER_KEY = DhchapKey.parse("DHHC-1:00:iIUAnmnqGpUWVsXpOuB0Fx+lwU0tgouGmxPqXYf8bMmdqnRi:");
    private final SecureRandom random = new SecureRandom();

    /**
     * The byte layout of R1 and R2 (little endian sequence number and transaction ID, the zero SC_C
     * byte, the labels, the NUL between NQNs, the augmented challenge): expected values computed
     * separately with Python's hmac and hashlib from the specification's formulas.
     */
    @Test
    void responsesMatchIndependentlyComputedValues() {
        byte[] c1 = new byte[32];
        Arrays.fill(c1, (byte) 0xA5);
        byte[] r1 = Responses.host(DhchapHash.SHA_256, DhchapKey.of(1, range(32)).transform(HOST), c1, 0x01020304,
                0x42, HOST, SUBSYSTEM);
        assertEquals("ef45f7d82fb02baa89b165d3c6f8207de6df9e7accc9ae327697f49c617e7d57", HexFormat.of().formatHex(r1));
        byte[] sessionKey = new byte[256];
        Arrays.fill(sessionKey, (byte) 7);
        byte[] c2 = new byte[48];
        Arrays.fill(c2, (byte) 0x5A);
        byte[] r2 = Responses.controller(DhchapHash.SHA_384, range(48),
                Responses.augment(DhchapHash.SHA_384, sessionKey, c2), 0xFFFFFFFE, 7, HOST, SUBSYSTEM);
        assertEquals("46f6c84f16ae917c7a88d57d995aa1a012b6aebcd00503f01e8044be828216f64f55a48fcf98d7d7b8e47ba41f0c5a1a",
                HexFormat.of().formatHex(r2));
    }

    @Test
    void everyHashAndGroupAuthenticatesBothWays() throws Exception {
        for (DhchapHash hash : DhchapHash.values()) {
            for (DhGroup group : new DhGroup[] {DhGroup.NULL, DhGroup.FFDHE2048, DhGroup.FFDHE3072}) {
                for (boolean bidirectional : new boolean[] {false, true}) {
                    DhchapCredentials creds = new DhchapCredentials(HOST_KEY, bidirectional ? CONTROLLER_KEY : null);
                    ControllerAuthentication ctrl = controller(creds, policy(hash, group));
                    HostAuthentication host = new HostAuthentication(creds, HOST, SUBSYSTEM, 9, random);
                    run(host, ctrl);
                    assertTrue(ctrl.authenticated(), hash + " " + group + " " + bidirectional);
                    assertFalse(ctrl.failed());
                }
            }
        }
    }

    @Test
    void largestGroupsAndStrongestHashFitTheMessageLimit() throws Exception {
        DhchapCredentials creds = new DhchapCredentials(HOST_KEY, CONTROLLER_KEY);
        ControllerAuthentication ctrl = controller(creds, policy(DhchapHash.SHA_512, DhGroup.FFDHE8192));
        HostAuthentication host = new HostAuthentication(creds, HOST, SUBSYSTEM, 1, random);
        ctrl.send(host.negotiate());
        byte[] challenge = ctrl.receive();
        byte[] reply = host.reply(challenge);
        assertTrue(challenge.length <= AuthMessages.MAX_MESSAGE_LENGTH && reply.length <= AuthMessages.MAX_MESSAGE_LENGTH);
        ctrl.send(reply);
        ctrl.send(host.success2(ctrl.receive()));
        assertTrue(ctrl.authenticated());
    }

    @Test
    void wrongHostSecretFailsWithFailure1() throws Exception {
        ControllerAuthentication ctrl = controller(new DhchapCredentials(HOST_KEY, null), DhchapPolicy.defaults());
        HostAuthentication host = new HostAuthentication(new DhchapCredentials(OTHER_KEY, null), HOST, SUBSYSTEM, 3, random);
        ctrl.send(host.negotiate());
        ctrl.send(host.reply(ctrl.receive()));
        assertFalse(ctrl.authenticated());
        byte[] failure1 = ctrl.receive();
        assertTrue(ctrl.failed());
        AuthenticationException e = assertThrows(AuthenticationException.class, () -> host.success2(failure1));
        assertEquals(AuthMessages.REASON_FAILED, e.reason());
        assertNull(host.failure2(e), "the controller reported the failure: no Failure2");
    }

    @Test
    void wrongControllerSecretIsDetectedByTheHost() throws Exception {
        ControllerAuthentication ctrl = controller(new DhchapCredentials(HOST_KEY, OTHER_KEY), DhchapPolicy.defaults());
        HostAuthentication host = new HostAuthentication(new DhchapCredentials(HOST_KEY, CONTROLLER_KEY), HOST,
                SUBSYSTEM, 3, random);
        ctrl.send(host.negotiate());
        ctrl.send(host.reply(ctrl.receive()));
        AuthenticationException e = assertThrows(AuthenticationException.class, () -> host.success2(ctrl.receive()));
        byte[] failure2 = host.failure2(e);
        assertNotNull(failure2);
        ctrl.send(failure2);
        assertFalse(ctrl.authenticated());
        assertTrue(ctrl.failed());
    }

    @Test
    void bidirectionalRequestWithoutControllerSecretFails() throws Exception {
        ControllerAuthentication ctrl = controller(new DhchapCredentials(HOST_KEY, null), DhchapPolicy.defaults());
        HostAuthentication host = new HostAuthentication(new DhchapCredentials(HOST_KEY, CONTROLLER_KEY), HOST,
                SUBSYSTEM, 3, random);
        ctrl.send(host.negotiate());
        ctrl.send(host.reply(ctrl.receive()));
        assertThrows(AuthenticationException.class, () -> host.success2(ctrl.receive()));
        assertTrue(ctrl.failed());
        assertFalse(ctrl.authenticated());
    }

    @Test
    void reauthenticationKeepsTheQueueAuthenticatedUntilItFails() throws Exception {
        DhchapCredentials creds = new DhchapCredentials(HOST_KEY, null);
        ControllerAuthentication ctrl = controller(creds, DhchapPolicy.defaults());
        run(new HostAuthentication(creds, HOST, SUBSYSTEM, 1, random), ctrl);
        HostAuthentication again = new HostAuthentication(creds, HOST, SUBSYSTEM, 2, random);
        ctrl.send(again.negotiate());
        assertTrue(ctrl.authenticated() && ctrl.inProgress());
        ctrl.send(again.reply(ctrl.receive()));
        assertNull(again.success2(ctrl.receive()));
        assertTrue(ctrl.authenticated());
        HostAuthentication impostor = new HostAuthentication(new DhchapCredentials(OTHER_KEY, null), HOST, SUBSYSTEM, 3, random);
        ctrl.send(impostor.negotiate());
        ctrl.send(impostor.reply(ctrl.receive()));
        assertFalse(ctrl.authenticated());
    }

    @Test
    void messagesOutOfOrderOrOfAnotherTransactionFail() throws Exception {
        DhchapCredentials creds = new DhchapCredentials(HOST_KEY, null);
        ControllerAuthentication early = controller(creds, DhchapPolicy.defaults());
        early.send(AuthMessages.success2(0));
        early.receive();
        assertTrue(early.failed());

        ControllerAuthentication ctrl = controller(creds, DhchapPolicy.defaults());
        HostAuthentication host = new HostAuthentication(creds, HOST, SUBSYSTEM, 5, random);
        ctrl.send(host.negotiate());
        byte[] reply = host.reply(ctrl.receive());
        reply[4] ^= 1; // another transaction ID
        ctrl.send(reply);
        ctrl.receive();
        assertTrue(ctrl.failed());
        assertFalse(ctrl.authenticated());
    }

    @Test
    void unusableOffersFailNegotiation() throws Exception {
        DhchapCredentials creds = new DhchapCredentials(HOST_KEY, null);
        ControllerAuthentication ctrl = controller(creds, policy(DhchapHash.SHA_512, DhGroup.FFDHE2048));
        ctrl.send(AuthMessages.negotiate(1, List.of(DhchapHash.SHA_256), List.of(DhGroup.FFDHE2048)));
        byte[] failure1 = ctrl.receive();
        assertEquals(AuthMessages.REASON_HASH_UNUSABLE, AuthMessages.failureReason(failure1));
        assertTrue(ctrl.failed());
    }

    /** Every truncation and every single-byte corruption of each host message ends in a clean success or failure. */
    @Test
    void truncatedOrCorruptedMessagesNeverThrow() throws Exception {
        DhchapCredentials creds = new DhchapCredentials(HOST_KEY, CONTROLLER_KEY);
        HostAuthentication host = new HostAuthentication(creds, HOST, SUBSYSTEM, 1, random);
        ControllerAuthentication source = controller(creds, policy(DhchapHash.SHA_256, DhGroup.NULL));
        byte[] negotiate = host.negotiate();
        source.send(negotiate);
        byte[] reply = host.reply(source.receive());
        for (byte[] message : new byte[][] {negotiate, reply}) {
            for (int length = 0; length < message.length; length++) {
                feed(creds, Arrays.copyOf(message, length), message == reply);
            }
            for (int i = 0; i < message.length; i++) {
                byte[] corrupt = message.clone();
                corrupt[i] ^= (byte) 0xFF;
                feed(creds, corrupt, message == reply);
            }
        }
    }

    private void feed(DhchapCredentials creds, byte[] message, boolean afterChallenge) {
        ControllerAuthentication ctrl = controller(creds, policy(DhchapHash.SHA_256, DhGroup.NULL));
        if (afterChallenge) {
            ctrl.send(new HostAuthentication(creds, HOST, SUBSYSTEM, 1, random).negotiate());
            ctrl.receive();
        }
        ctrl.send(message);
        byte[] answer = ctrl.receive();
        assertTrue(answer.length >= AuthMessages.FAILURE_LENGTH);
    }

    private void run(HostAuthentication host, ControllerAuthentication ctrl) throws AuthenticationException {
        ctrl.send(host.negotiate());
        ctrl.send(host.reply(ctrl.receive()));
        byte[] success2 = host.success2(ctrl.receive());
        if (success2 != null) {
            ctrl.send(success2);
        }
    }

    private ControllerAuthentication controller(DhchapCredentials creds, DhchapPolicy policy) {
        return new ControllerAuthentication(creds, policy, HOST, SUBSYSTEM, random);
    }

    private static DhchapPolicy policy(DhchapHash hash, DhGroup group) {
        return new DhchapPolicy(List.of(hash), List.of(group), Duration.ofSeconds(5));
    }

    private static byte[] range(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) i;
        }
        return b;
    }
}
