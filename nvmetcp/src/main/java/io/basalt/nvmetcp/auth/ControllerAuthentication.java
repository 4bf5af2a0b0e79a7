package io.basalt.nvmetcp.auth;

import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * The controller's side of one DH-HMAC-CHAP transaction on one queue: AUTH_Negotiate in, Challenge
 * out, Reply in, Success1 out and, when the host asked the controller to prove itself, Success2 in. A
 * failure is told to the host with a Failure1 message at its next Authentication Receive; after that,
 * or after a Failure2 from the host, {@link #failed()} holds and the caller ends the association. A
 * new AUTH_Negotiate starts a new transaction at any time (re-authentication); the queue stays
 * authenticated meanwhile unless that transaction fails. Not thread safe: one queue's messages are
 * handled one at a time, by one thread at a time; only {@link #authenticated()} may be read from others.
 */
public final class ControllerAuthentication {
    private enum Step { NEGOTIATE, CHALLENGE, REPLY, SUCCESS1, SUCCESS2, FAILURE1, DONE, FAILED }

    private final DhchapCredentials credentials;
    private final DhchapPolicy policy;
    private final String hostNqn;
    private final String subsystemNqn;
    private final SecureRandom random;
    private Step step = Step.NEGOTIATE;
    private volatile boolean authenticated;
    private int tid;
    private DhchapHash hash;
    private DhGroup group;
    private byte[] c1;
    private int s1;
    private KeyPair dhKeys;
    private byte[] sessionKey;
    private byte[] c2;
    private int s2;
    private int failureReason;
    private String failure;

    public ControllerAuthentication(DhchapCredentials credentials, DhchapPolicy policy, String hostNqn,
                                    String subsystemNqn, SecureRandom random) {
        this.credentials = credentials;
        this.policy = policy;
        this.hostNqn = hostNqn;
        this.subsystemNqn = subsystemNqn;
        this.random = random;
    }

    /** Whether the host has proven itself (and the controller too, when the host asked for it). */
    public boolean authenticated() {
        return authenticated;
    }

    /** Whether the transaction failed and the host knows it: the association must end. */
    public boolean failed() {
        return step == Step.FAILED;
    }

    /** Why it failed, for the log; null while it has not. */
    public String failure() {
        return failure;
    }

    /** Whether a transaction is under way (between AUTH_Negotiate and its end). */
    public boolean inProgress() {
        return step != Step.DONE && step != Step.FAILED && step != Step.NEGOTIATE;
    }

    /** Takes the payload of an Authentication Send. */
    public void send(byte[] message) {
        int type = AuthMessages.type(message);
        int id = AuthMessages.id(message);
        try {
            if (type == AuthMessages.TYPE_COMMON && id == AuthMessages.ID_NEGOTIATE) {
                negotiate(message);
            } else if (AuthMessages.isFailure(message, AuthMessages.ID_FAILURE2)) {
                fail(AuthMessages.failureReason(message), "the host reported failure, reason "
                        + AuthMessages.failureReason(message));
                step = Step.FAILED;
            } else if (type != AuthMessages.TYPE_DHCHAP || (id != AuthMessages.ID_REPLY && id != AuthMessages.ID_SUCCESS2)
                    || step != (id == AuthMessages.ID_REPLY ? Step.REPLY : Step.SUCCESS2)) {
                throw new AuthenticationException(AuthMessages.REASON_INCORRECT_MESSAGE,
                        "unexpected message type " + type + " id 0x" + Integer.toHexString(id) + " at step " + step);
            } else if (AuthMessages.tid(message) != tid) {
                throw new AuthenticationException(AuthMessages.REASON_INCORRECT_PAYLOAD,
                        "transaction " + AuthMessages.tid(message) + " instead of " + tid);
            } else if (id == AuthMessages.ID_REPLY) {
                reply(AuthMessages.parseReply(message));
            } else {
                authenticated = true;
                step = Step.DONE;
            }
        } catch (AuthenticationException e) {
            fail(e.reason(), e.getMessage());
        }
    }

    /** Produces the payload of an Authentication Receive. */
    public byte[] receive() {
        switch (step) {
            case CHALLENGE -> {
                c1 = new byte[hash.length()];
                random.nextBytes(c1);
                s1 = nonZeroSequence();
                byte[] publicValue = new byte[0];
                if (group != DhGroup.NULL) {
                    dhKeys = group.generate(random);
                    publicValue = group.publicValue(dhKeys);
                }
                step = Step.REPLY;
                return AuthMessages.challenge(tid, hash, group, s1, c1, publicValue);
            }
            case SUCCESS1 -> {
                byte[] response = null;
                if (c2 != null) {
                    byte[] key = credentials.controllerKey().transform(subsystemNqn);
                    response = Responses.controller(hash, key, Responses.augment(hash, sessionKey, c2), s2, tid,
                            hostNqn, subsystemNqn);
                }
                step = c2 != null ? Step.SUCCESS2 : Step.DONE;
                return AuthMessages.success1(tid, hash.length(), response);
            }
            case FAILURE1 -> {
                step = Step.FAILED;
                return AuthMessages.failure(AuthMessages.ID_FAILURE1, tid, failureReason);
            }
            default -> {
                fail(AuthMessages.REASON_INCORRECT_MESSAGE, "Authentication Receive at step " + step);
                step = Step.FAILED;
                return AuthMessages.failure(AuthMessages.ID_FAILURE1, tid, failureReason);
            }
        }
    }

    private void negotiate(byte[] message) throws AuthenticationException {
        AuthMessages.Negotiate n = AuthMessages.parseNegotiate(message);
        tid = n.tid();
        c2 = null;
        sessionKey = null;
        dhKeys = null;
        if (n.secureChannel() != 0) {
            throw new AuthenticationException(AuthMessages.REASON_CONCAT_MISMATCH,
                    "secure channel concatenation is not supported");
        }
        hash = policy.hashes().stream().filter(h -> n.hashIds().contains(h.id())).findFirst()
                .orElseThrow(() -> new AuthenticationException(AuthMessages.REASON_HASH_UNUSABLE,
                        "the host offers none of the hashes " + policy.hashes()));
        group = policy.groups().stream().filter(g -> n.groupIds().contains(g.id())).findFirst()
                .orElseThrow(() -> new AuthenticationException(AuthMessages.REASON_DHGROUP_UNUSABLE,
                        "the host offers none of the groups " + policy.groups()));
        step = Step.CHALLENGE;
    }

    private void reply(AuthMessages.Reply r) throws AuthenticationException {
        if (r.response().length != hash.length()) {
            throw new AuthenticationException(AuthMessages.REASON_INCORRECT_PAYLOAD,
                    "response of " + r.response().length + " bytes for " + hash);
        }
        if (group == DhGroup.NULL) {
            if (r.publicValue().length != 0) {
                throw new AuthenticationException(AuthMessages.REASON_INCORRECT_PAYLOAD, "a DH value with the null group");
            }
        } else {
            sessionKey = group.sharedSecret(dhKeys, r.publicValue());
        }
        byte[] expected = Responses.host(hash, credentials.hostKey().transform(hostNqn),
                Responses.augment(hash, sessionKey, c1), s1, tid, hostNqn, subsystemNqn);
        if (!MessageDigest.isEqual(expected, r.response())) {
            throw new AuthenticationException(AuthMessages.REASON_FAILED, "the host's response does not match its secret");
        }
        // A sequence number of 0 carries C2 for other purposes (TLS key derivation), not bidirectional authentication.
        boolean bidirectional = r.challenge() != null && r.sequence() != 0;
        if (bidirectional && !credentials.bidirectional()) {
            throw new AuthenticationException(AuthMessages.REASON_FAILED,
                    "the host asks the controller to authenticate, but no controller secret is set for it");
        }
        if (bidirectional) {
            c2 = r.challenge();
            s2 = r.sequence();
        } else {
            authenticated = true;
        }
        step = Step.SUCCESS1;
    }

    private void fail(int reason, String why) {
        authenticated = false;
        failureReason = reason;
        failure = why;
        step = Step.FAILURE1;
    }

    private int nonZeroSequence() {
        int s;
        do {
            s = random.nextInt();
        } while (s == 0);
        return s;
    }
}
