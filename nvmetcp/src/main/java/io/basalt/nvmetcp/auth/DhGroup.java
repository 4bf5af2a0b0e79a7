package io.basalt.nvmetcp.auth;

import javax.crypto.KeyAgreement;
import javax.crypto.interfaces.DHPublicKey;
import javax.crypto.spec.DHParameterSpec;
import javax.crypto.spec.DHPublicKeySpec;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;

/**
 * The Diffie-Hellman groups of DH-HMAC-CHAP: none (the null group) or the finite field groups of
 * RFC 7919. The JDK's DH has no named FFDHE groups (its key sizes map to RFC 3526's groups), so the
 * primes are derived here exactly as RFC 7919 defines them: p = 2^b - 2^(b-64) + (floor(2^(b-130) e) +
 * X) 2^64 - 1, with generator 2.
 */
public enum DhGroup {
    NULL(0, 0, 0),
    FFDHE2048(1, 2048, 560316),
    FFDHE3072(2, 3072, 2625351),
    FFDHE4096(3, 4096, 5736041),
    FFDHE6144(4, 6144, 15705020),
    FFDHE8192(5, 8192, 10965728);

    private static final BigInteger GENERATOR = BigInteger.TWO;
    private final int id;
    private final int bits;
    private final long offset;
    private volatile DHParameterSpec parameters;

    DhGroup(int id, int bits, long offset) {
        this.id = id;
        this.bits = bits;
        this.offset = offset;
    }

    public int id() {
        return id;
    }

    /** Bytes of a public value and of the shared secret; 0 for the null group. */
    public int valueLength() {
        return bits / 8;
    }

    /** The group with this identifier, or null for an identifier the protocol does not define. */
    public static DhGroup ofId(int id) {
        for (DhGroup g : values()) {
            if (g.id == id) {
                return g;
            }
        }
        return null;
    }

    /** The name nvme-cli and Linux use, such as {@code ffdhe2048}. */
    public String linuxName() {
        return this == NULL ? "null" : name().toLowerCase(java.util.Locale.ROOT);
    }

    BigInteger prime() {
        return parameters().getP();
    }

    private DHParameterSpec parameters() {
        DHParameterSpec p = parameters;
        if (p == null) {
            if (this == NULL) {
                throw new IllegalStateException("the null group has no parameters");
            }
            BigInteger eBits = eTimesPowerOfTwo(bits - 130);
            BigInteger prime = BigInteger.ONE.shiftLeft(bits)
                    .subtract(BigInteger.ONE.shiftLeft(bits - 64))
                    .add(eBits.add(BigInteger.valueOf(offset)).shiftLeft(64))
                    .subtract(BigInteger.ONE);
            p = new DHParameterSpec(prime, GENERATOR);
            parameters = p;
        }
        return p;
    }

    /** floor(e * 2^n), from the series e = sum 1/k! computed on integers with 64 guard bits. */
    static BigInteger eTimesPowerOfTwo(int n) {
        BigInteger term = BigInteger.ONE.shiftLeft(n + 64);
        BigInteger sum = term;
        for (int k = 1; term.signum() > 0; k++) {
            term = term.divide(BigInteger.valueOf(k));
            sum = sum.add(term);
        }
        return sum.shiftRight(64);
    }

    /** A fresh key pair (private exponent and public value) in this group. */
    KeyPair generate(SecureRandom random) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("DH");
            generator.initialize(parameters(), random);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a " + linuxName() + " key pair", e);
        }
    }

    /** The public value g^x as the protocol sends it: big endian, padded to the group's size. */
    byte[] publicValue(KeyPair pair) {
        return fixedLength(((DHPublicKey) pair.getPublic()).getY());
    }

    /**
     * The shared secret (g^xy, padded to the group's size) from our key pair and the peer's public
     * value; the peer's value must lie in 2..p-2 and be of the group's size.
     */
    byte[] sharedSecret(KeyPair ours, byte[] peerValue) throws AuthenticationException {
        BigInteger p = prime();
        BigInteger y = new BigInteger(1, peerValue);
        if (peerValue.length != valueLength() || y.compareTo(BigInteger.ONE) <= 0
                || y.compareTo(p.subtract(BigInteger.ONE)) >= 0) {
            throw new AuthenticationException(AuthMessages.REASON_DHGROUP_UNUSABLE,
                    "the peer's " + linuxName() + " public value is out of range");
        }
        try {
            KeyFactory factory = KeyFactory.getInstance("DH");
            var peer = factory.generatePublic(new DHPublicKeySpec(y, p, GENERATOR));
            KeyAgreement agreement = KeyAgreement.getInstance("DH");
            agreement.init(ours.getPrivate());
            agreement.doPhase(peer, true);
            return fixedLength(new BigInteger(1, agreement.generateSecret()));
        } catch (GeneralSecurityException e) {
            throw new AuthenticationException(AuthMessages.REASON_DHGROUP_UNUSABLE,
                    "cannot agree on a " + linuxName() + " secret: " + e.getMessage());
        }
    }

    private byte[] fixedLength(BigInteger value) {
        byte[] raw = value.toByteArray();
        byte[] out = new byte[valueLength()];
        int copy = Math.min(raw.length, out.length);
        System.arraycopy(raw, raw.length - copy, out, out.length - copy, copy);
        return out;
    }
}
