package io.basalt.nvmetcp.auth;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The values DH-HMAC-CHAP computes (NVMe Base Specification 2.0, 8.13.5.4 and 8.13.5.5). */
final class Responses {
    private static final byte[] HOST_LABEL = "HostHost".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTROLLER_LABEL = "Controller".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ZERO = {0};

    private Responses() {
    }

    /**
     * The challenge as the response covers it: C itself with the null group, else HMAC(H(g^xy), C), which
     * binds the response to this Diffie-Hellman exchange.
     */
    static byte[] augment(DhchapHash hash, byte[] sessionKey, byte[] challenge) {
        if (sessionKey == null) {
            return challenge;
        }
        return hash.hmac(hash.digest(sessionKey), List.of(challenge));
    }

    /** R1 = HMAC(Kh', C1' || S1 || T_ID || SC_C || "HostHost" || NQNh || 00h || NQNc). */
    static byte[] host(DhchapHash hash, byte[] transformedHostKey, byte[] challenge, int sequence, int tid,
                       String hostNqn, String subsystemNqn) {
        return hash.hmac(transformedHostKey, List.of(challenge, sequenceAndTid(sequence, tid), ZERO, HOST_LABEL,
                ascii(hostNqn), ZERO, ascii(subsystemNqn)));
    }

    /** R2 = HMAC(Kc', C2' || S2 || T_ID || SC_C || "Controller" || NQNc || 00h || NQNh). */
    static byte[] controller(DhchapHash hash, byte[] transformedControllerKey, byte[] challenge, int sequence, int tid,
                             String hostNqn, String subsystemNqn) {
        return hash.hmac(transformedControllerKey, List.of(challenge, sequenceAndTid(sequence, tid), ZERO,
                CONTROLLER_LABEL, ascii(subsystemNqn), ZERO, ascii(hostNqn)));
    }

    private static byte[] sequenceAndTid(int sequence, int tid) {
        return ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN).putInt(sequence).putShort((short) tid).array();
    }

    private static byte[] ascii(String nqn) {
        return nqn.getBytes(StandardCharsets.UTF_8);
    }
}
