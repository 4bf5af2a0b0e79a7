package io.basalt.nvmetcp.auth;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What a controller accepts: hashes and Diffie-Hellman groups in order of preference (the first one the
 * host also offers is chosen), and how long a queue may take to authenticate before it is closed.
 */
public record DhchapPolicy(List<DhchapHash> hashes, List<DhGroup> groups, Duration timeout) {
    public DhchapPolicy {
        hashes = List.copyOf(hashes);
        groups = List.copyOf(groups);
        Objects.requireNonNull(timeout);
        if (hashes.isEmpty() || groups.isEmpty()) {
            throw new IllegalArgumentException("a DH-HMAC-CHAP policy needs at least one hash and one group");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the authentication timeout must be positive");
        }
    }

    /** SHA-256 first, and a Diffie-Hellman exchange (ffdhe2048 first) so that each session gets fresh keys. */
    public static DhchapPolicy defaults() {
        return new DhchapPolicy(List.of(DhchapHash.SHA_256, DhchapHash.SHA_384, DhchapHash.SHA_512),
                List.of(DhGroup.FFDHE2048, DhGroup.FFDHE3072, DhGroup.FFDHE4096, DhGroup.FFDHE6144,
                        DhGroup.FFDHE8192, DhGroup.NULL),
                Duration.ofSeconds(10));
    }
}
