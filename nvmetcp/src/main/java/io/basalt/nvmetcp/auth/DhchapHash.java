package io.basalt.nvmetcp.auth;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.List;

/** The hash functions of DH-HMAC-CHAP, by the identifiers the authentication messages carry. */
public enum DhchapHash {
    SHA_256(1, "SHA-256", "HmacSHA256", 32),
    SHA_384(2, "SHA-384", "HmacSHA384", 48),
    SHA_512(3, "SHA-512", "HmacSHA512", 64);

    private final int id;
    private final String digestName;
    private final String macName;
    private final int length;

    DhchapHash(int id, String digestName, String macName, int length) {
        this.id = id;
        this.digestName = digestName;
        this.macName = macName;
        this.length = length;
    }

    public int id() {
        return id;
    }

    /** Bytes of a digest, of a challenge and of a response. */
    public int length() {
        return length;
    }

    /** The hash with this identifier, or null for an identifier the protocol does not define. */
    public static DhchapHash ofId(int id) {
        for (DhchapHash h : values()) {
            if (h.id == id) {
                return h;
            }
        }
        return null;
    }

    byte[] digest(byte[] data) {
        try {
            return MessageDigest.getInstance(digestName).digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + digestName, e);
        }
    }

    /** HMAC with this hash over the concatenation of {@code parts}. */
    byte[] hmac(byte[] key, List<byte[]> parts) {
        try {
            Mac mac = Mac.getInstance(macName);
            mac.init(new SecretKeySpec(key, macName));
            for (byte[] part : parts) {
                mac.update(part);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + macName, e);
        }
    }
}
