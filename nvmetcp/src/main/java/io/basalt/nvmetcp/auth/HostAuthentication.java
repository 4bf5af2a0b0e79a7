package io.basalt.nvmetcp.auth;

import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;

/**
 * The host's side of one DH-HMAC-CHAP transaction on one queue: {@link #negotiate()}, then
 * {@link #reply} to the controller's Challenge, then {@link #success2} on its Success1. A method that
 * throws ends the transaction; {@link #failure2} gives the message that tells the controller, unless
 * the controller itself reported the failure.
 */
public final class HostAuthentication {
    /** Every hash and group, in the order Linux offers them. */
    private static final List<DhchapHash> HASHES = List.of(DhchapHash.values());
    private static final List<DhGroup> GROUPS = List.of(DhGroup.values());

    private final DhchapCredentials credentials;
    private final String hostNqn;
    private final String subsystemNqn;
    private final int tid;
    private final SecureRandom random;
    private DhchapHash hash;
    private byte[] sessionKey;
    private byte[] c2;
    private int s2;
    private boolean controllerReportedFailure;

    public HostAuthentication(DhchapCredentials credentials, String hostNqn, String subsystemNqn, int tid,
                              SecureRandom random) {
        this.credentials = credentials;
        this.hostNqn = hostNqn;
        this.subsystemNqn = subsystemNqn;
        this.tid = tid & 0xFFFF;
        this.random = random;
    }

    public byte[] negotiate() {
        return AuthMessages.negotiate(tid, HASHES, GROUPS);
    }

    /** The Reply to the controller's Challenge (or throws on its Failure1 or a challenge we cannot meet). */
    public byte[] reply(byte[] message) throws AuthenticationException {
        expect(message, AuthMessages.ID_CHALLENGE);
        AuthMessages.Challenge c = AuthMessages.parseChallenge(message);
        hash = DhchapHash.ofId(c.hashId());
        if (hash == null) {
            throw new AuthenticationException(AuthMessages.REASON_HASH_UNUSABLE, "unknown hash " + c.hashId());
        }
        if (c.challenge().length != hash.length()) {
            throw new AuthenticationException(AuthMessages.REASON_INCORRECT_PAYLOAD, "challenge length for " + hash);
        }
        DhGroup group = DhGroup.ofId(c.groupId());
        if (group == null) {
            throw new AuthenticationException(AuthMessages.REASON_DHGROUP_UNUSABLE, "unknown group " + c.groupId());
        }
        byte[] publicValue = new byte[0];
        if (group != DhGroup.NULL) {
            KeyPair keys = group.generate(random);
            sessionKey = group.sharedSecret(keys, c.publicValue());
            publicValue = group.publicValue(keys);
        } else if (c.publicValue().length != 0) {
            throw new AuthenticationException(AuthMessages.REASON_INCORRECT_PAYLOAD, "a DH value with the null group");
        }
        byte[] response = Responses.host(hash, credentials.hostKey().transform(hostNqn),
                Responses.augment(hash, sessionKey, c.challenge()), c.sequence(), tid, hostNqn, subsystemNqn);
        if (credentials.bidirectional()) {
            c2 = new byte[hash.length()];
            random.nextBytes(c2);
            do {
                s2 = random.nextInt();
            } while (s2 == 0);
        }
        return AuthMessages.reply(tid, response, c2, s2, publicValue);
    }

    /**
     * Checks the controller's Success1: its response when the host asked for one. Returns the Success2
     * to send, or null when authentication was unidirectional (nothing more to send).
     */
    public byte[] success2(byte[] message) throws AuthenticationException {
        expect(message, AuthMessages.ID_SUCCESS1);
        AuthMessages.Success1 s = AuthMessages.parseSuccess1(message);
        if (s.hashLength() != hash.length()) {
            throw new AuthenticationException(AuthMessages.REASON_INCORRECT_PAYLOAD, "Success1 hash length");
        }
        if (c2 == null) {
            return null;
        }
        byte[] expected = Responses.controller(hash, credentials.controllerKey().transform(subsystemNqn),
                Responses.augment(hash, sessionKey, c2), s2, tid, hostNqn, subsystemNqn);
        if (s.response() == null || !MessageDigest.isEqual(expected, s.response())) {
            throw new AuthenticationException(AuthMessages.REASON_FAILED,
                    "the controller's response does not match the controller secret");
        }
        return AuthMessages.success2(tid);
    }

    /** The Failure2 that reports {@code e} to the controller, or null when the controller reported it. */
    public byte[] failure2(AuthenticationException e) {
        return controllerReportedFailure ? null : AuthMessages.failure(AuthMessages.ID_FAILURE2, tid, e.reason());
    }

    private void expect(byte[] message, int id) throws AuthenticationException {
        if (AuthMessages.isFailure(message, AuthMessages.ID_FAILURE1)) {
            controllerReportedFailure = true;
            throw new AuthenticationException(AuthMessages.failureReason(message),
                    "the controller refused authentication, reason " + AuthMessages.failureReason(message));
        }
        if (AuthMessages.type(message) != AuthMessages.TYPE_DHCHAP || AuthMessages.id(message) != id) {
            throw new AuthenticationException(AuthMessages.REASON_INCORRECT_MESSAGE,
                    "expected message 0x" + Integer.toHexString(id) + ", got 0x" + Integer.toHexString(AuthMessages.id(message)));
        }
        if (AuthMessages.tid(message) != tid) {
            throw new AuthenticationException(AuthMessages.REASON_INCORRECT_PAYLOAD, "wrong transaction ID");
        }
    }
}
