package io.basalt.nvmetcp.auth;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The DH-HMAC-CHAP messages that Authentication Send and Receive carry (NVMe Base Specification 2.0,
 * 8.13.5), as little endian byte layouts. Decoders check every length against the bytes present
 * before reading and throw {@link AuthenticationException} with "incorrect payload" otherwise.
 */
public final class AuthMessages {
    /** Security protocol (SECP) of the authentication commands and its SPSP bytes. */
    public static final int SECP_DHCHAP = 0xE9;
    public static final int SPSP = 0x01;

    static final int TYPE_COMMON = 0x00;
    static final int TYPE_DHCHAP = 0x01;
    static final int ID_NEGOTIATE = 0x00;
    static final int ID_CHALLENGE = 0x01;
    static final int ID_REPLY = 0x02;
    static final int ID_SUCCESS1 = 0x03;
    static final int ID_SUCCESS2 = 0x04;
    static final int ID_FAILURE2 = 0xF0;
    static final int ID_FAILURE1 = 0xF1;

    /** Failure reason code: the only one defined, "authentication failure". */
    static final int REASON_CODE_FAILED = 0x01;
    // Failure reason code explanations.
    public static final int REASON_FAILED = 0x01;
    public static final int REASON_CONCAT_MISMATCH = 0x03;
    public static final int REASON_HASH_UNUSABLE = 0x04;
    public static final int REASON_DHGROUP_UNUSABLE = 0x05;
    public static final int REASON_INCORRECT_PAYLOAD = 0x06;
    public static final int REASON_INCORRECT_MESSAGE = 0x07;

    static final int DHCHAP_AUTH_ID = 0x01;
    static final int HEADER_LENGTH = 16;
    static final int NEGOTIATE_HEADER_LENGTH = 8;
    static final int DESCRIPTOR_LENGTH = 64;
    static final int MAX_HASH_IDS = 30;
    static final int MAX_DH_IDS = 30;
    public static final int FAILURE_LENGTH = 8;
    /** The longest message either side sends: a Reply with SHA-512 values and an ffdhe8192 public value. */
    public static final int MAX_MESSAGE_LENGTH = 4096;

    private AuthMessages() {
    }

    /** AUTH_Negotiate: the host's transaction ID and the hashes and groups it offers, in its order. */
    record Negotiate(int tid, int secureChannel, List<Integer> hashIds, List<Integer> groupIds) {
    }

    record Challenge(int tid, int hashId, int groupId, int sequence, byte[] challenge, byte[] publicValue) {
    }

    /** {@code challenge} is C2, or null when the host does not ask the controller to authenticate. */
    record Reply(int tid, byte[] response, byte[] challenge, int sequence, byte[] publicValue) {
    }

    /** {@code response} is the controller's response R2, or null for unidirectional authentication. */
    record Success1(int tid, int hashLength, byte[] response) {
    }

    static int type(byte[] m) {
        return m.length < 2 ? -1 : m[0] & 0xFF;
    }

    static int id(byte[] m) {
        return m.length < 2 ? -1 : m[1] & 0xFF;
    }

    static int tid(byte[] m) {
        return m.length < 6 ? -1 : le(m).getShort(4) & 0xFFFF;
    }

    // ---- encoders ----

    static byte[] negotiate(int tid, List<DhchapHash> hashes, List<DhGroup> groups) {
        ByteBuffer b = header(NEGOTIATE_HEADER_LENGTH + DESCRIPTOR_LENGTH, TYPE_COMMON, ID_NEGOTIATE, tid);
        b.put(6, (byte) 0); // SC_C: no secure channel concatenation
        b.put(7, (byte) 1); // NAPD: one protocol descriptor
        int d = NEGOTIATE_HEADER_LENGTH;
        b.put(d, (byte) DHCHAP_AUTH_ID);
        b.put(d + 2, (byte) hashes.size());
        b.put(d + 3, (byte) groups.size());
        for (int i = 0; i < hashes.size(); i++) {
            b.put(d + 4 + i, (byte) hashes.get(i).id());
        }
        for (int i = 0; i < groups.size(); i++) {
            b.put(d + 4 + MAX_HASH_IDS + i, (byte) groups.get(i).id());
        }
        return b.array();
    }

    static byte[] challenge(int tid, DhchapHash hash, DhGroup group, int sequence, byte[] c1, byte[] publicValue) {
        ByteBuffer b = header(HEADER_LENGTH + c1.length + publicValue.length, TYPE_DHCHAP, ID_CHALLENGE, tid);
        b.put(6, (byte) hash.length());
        b.put(8, (byte) hash.id());
        b.put(9, (byte) group.id());
        b.putShort(10, (short) publicValue.length);
        b.putInt(12, sequence);
        b.put(HEADER_LENGTH, c1).put(HEADER_LENGTH + c1.length, publicValue);
        return b.array();
    }

    /** The Reply always has room for C2 (zeroed when absent), as the specification lays it out. */
    static byte[] reply(int tid, byte[] response, byte[] c2, int sequence, byte[] publicValue) {
        int hl = response.length;
        ByteBuffer b = header(HEADER_LENGTH + 2 * hl + publicValue.length, TYPE_DHCHAP, ID_REPLY, tid);
        b.put(6, (byte) hl);
        b.put(8, (byte) (c2 != null ? 1 : 0));
        b.putShort(10, (short) publicValue.length);
        b.putInt(12, c2 != null ? sequence : 0);
        b.put(HEADER_LENGTH, response);
        if (c2 != null) {
            b.put(HEADER_LENGTH + hl, c2);
        }
        b.put(HEADER_LENGTH + 2 * hl, publicValue);
        return b.array();
    }

    static byte[] success1(int tid, int hashLength, byte[] response) {
        ByteBuffer b = header(HEADER_LENGTH + (response != null ? response.length : 0), TYPE_DHCHAP, ID_SUCCESS1, tid);
        b.put(6, (byte) hashLength);
        if (response != null) {
            b.put(8, (byte) 1);
            b.put(HEADER_LENGTH, response);
        }
        return b.array();
    }

    static byte[] success2(int tid) {
        return header(HEADER_LENGTH, TYPE_DHCHAP, ID_SUCCESS2, tid).array();
    }

    /** AUTH_Failure1 (controller to host) or AUTH_Failure2 (host to controller). */
    static byte[] failure(int id, int tid, int reason) {
        ByteBuffer b = header(FAILURE_LENGTH, TYPE_COMMON, id, tid);
        b.put(6, (byte) REASON_CODE_FAILED);
        b.put(7, (byte) reason);
        return b.array();
    }

    // ---- decoders ----

    static Negotiate parseNegotiate(byte[] m) throws AuthenticationException {
        require(m.length >= NEGOTIATE_HEADER_LENGTH + DESCRIPTOR_LENGTH, "AUTH_Negotiate shorter than one descriptor");
        int napd = m[7] & 0xFF;
        int d = NEGOTIATE_HEADER_LENGTH;
        if (napd != 1) {
            throw new AuthenticationException(REASON_HASH_UNUSABLE, "AUTH_Negotiate with " + napd + " protocol descriptors");
        }
        require((m[d] & 0xFF) == DHCHAP_AUTH_ID, "AUTH_Negotiate offers no DH-HMAC-CHAP");
        int halen = m[d + 2] & 0xFF;
        int dhlen = m[d + 3] & 0xFF;
        require(halen <= MAX_HASH_IDS && dhlen <= MAX_DH_IDS, "AUTH_Negotiate lists too many identifiers");
        List<Integer> hashes = new ArrayList<>(halen);
        for (int i = 0; i < halen; i++) {
            hashes.add(m[d + 4 + i] & 0xFF);
        }
        List<Integer> groups = new ArrayList<>(dhlen);
        for (int i = 0; i < dhlen; i++) {
            groups.add(m[d + 4 + MAX_HASH_IDS + i] & 0xFF);
        }
        return new Negotiate(tid(m), m[6] & 0xFF, hashes, groups);
    }

    static Challenge parseChallenge(byte[] m) throws AuthenticationException {
        require(m.length >= HEADER_LENGTH, "short DH-HMAC-CHAP_Challenge");
        ByteBuffer b = le(m);
        int hl = m[6] & 0xFF;
        int dhvlen = b.getShort(10) & 0xFFFF;
        require(HEADER_LENGTH + hl + dhvlen <= m.length, "DH-HMAC-CHAP_Challenge values exceed the message");
        byte[] c1 = slice(m, HEADER_LENGTH, hl);
        byte[] value = slice(m, HEADER_LENGTH + hl, dhvlen);
        return new Challenge(tid(m), m[8] & 0xFF, m[9] & 0xFF, b.getInt(12), c1, value);
    }

    static Reply parseReply(byte[] m) throws AuthenticationException {
        require(m.length >= HEADER_LENGTH, "short DH-HMAC-CHAP_Reply");
        ByteBuffer b = le(m);
        int hl = m[6] & 0xFF;
        boolean cvalid = (m[8] & 1) != 0;
        int dhvlen = b.getShort(10) & 0xFFFF;
        require(HEADER_LENGTH + 2 * hl + dhvlen <= m.length, "DH-HMAC-CHAP_Reply values exceed the message");
        return new Reply(tid(m), slice(m, HEADER_LENGTH, hl), cvalid ? slice(m, HEADER_LENGTH + hl, hl) : null,
                b.getInt(12), slice(m, HEADER_LENGTH + 2 * hl, dhvlen));
    }

    static Success1 parseSuccess1(byte[] m) throws AuthenticationException {
        require(m.length >= HEADER_LENGTH, "short DH-HMAC-CHAP_Success1");
        int hl = m[6] & 0xFF;
        boolean rvalid = (m[8] & 1) != 0;
        require(!rvalid || HEADER_LENGTH + hl <= m.length, "DH-HMAC-CHAP_Success1 response exceeds the message");
        return new Success1(tid(m), hl, rvalid ? slice(m, HEADER_LENGTH, hl) : null);
    }

    /** The reason code explanation of a Failure1 or Failure2 message. */
    static int failureReason(byte[] m) {
        return m.length >= FAILURE_LENGTH ? m[7] & 0xFF : REASON_FAILED;
    }

    static boolean isFailure(byte[] m, int failureId) {
        return id(m) == failureId && (type(m) == TYPE_COMMON || type(m) == TYPE_DHCHAP);
    }

    private static void require(boolean ok, String what) throws AuthenticationException {
        if (!ok) {
            throw new AuthenticationException(REASON_INCORRECT_PAYLOAD, what);
        }
    }

    private static byte[] slice(byte[] m, int offset, int length) {
        byte[] out = new byte[length];
        System.arraycopy(m, offset, out, 0, length);
        return out;
    }

    private static ByteBuffer header(int length, int type, int id, int tid) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) type).put(1, (byte) id).putShort(4, (short) tid);
        return b;
    }

    private static ByteBuffer le(byte[] m) {
        return ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
    }
}
