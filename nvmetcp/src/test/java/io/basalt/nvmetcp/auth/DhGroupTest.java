package io.basalt.nvmetcp.auth;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.SecureRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DhGroupTest {
    private final SecureRandom random = new SecureRandom();

    /**
     * RFC 7919's primes are safe primes whose top and bottom 64 bits are all ones; a wrong constant or
     * a wrong digit of e gives a number that is neither (ffdhe2048's leading digits are those the RFC prints).
     */
    @Test
    void derivedPrimesAreRfc7919SafePrimes() {
        assertTrue(DhGroup.FFDHE2048.prime().toString(16).toUpperCase().startsWith("FFFFFFFFFFFFFFFFADF85458A2BB4A9A"));
        for (DhGroup g : DhGroup.values()) {
            if (g == DhGroup.NULL) {
                continue;
            }
            BigInteger p = g.prime();
            assertEquals(g.valueLength() * 8, p.bitLength(), g.name());
            String hex = p.toString(16);
            assertTrue(hex.startsWith("ffffffffffffffff") && hex.endsWith("ffffffffffffffff"), g.name());
            assertTrue(p.isProbablePrime(1), g + " is not prime");
            assertTrue(p.shiftRight(1).isProbablePrime(1), g + " is not a safe prime");
        }
    }

    @Test
    void bothSidesAgreeOnAFixedLengthSecret() throws Exception {
        for (DhGroup g : new DhGroup[] {DhGroup.FFDHE2048, DhGroup.FFDHE4096}) {
            KeyPair a = g.generate(random);
            KeyPair b = g.generate(random);
            byte[] ab = g.sharedSecret(a, g.publicValue(b));
            assertEquals(g.valueLength(), ab.length);
            assertEquals(g.valueLength(), g.publicValue(a).length);
            assertArrayEquals(ab, g.sharedSecret(b, g.publicValue(a)));
        }
    }

    @Test
    void degenerateOrMisSizedPeerValuesAreRefused() {
        DhGroup g = DhGroup.FFDHE2048;
        KeyPair a = g.generate(random);
        byte[] one = new byte[g.valueLength()];
        one[one.length - 1] = 1;
        byte[] pMinusOne = fixed(g.prime().subtract(BigInteger.ONE), g.valueLength());
        for (byte[] peer : new byte[][] {new byte[g.valueLength()], one, pMinusOne, new byte[g.valueLength() - 1],
                fixed(BigInteger.TWO, g.valueLength() + 1)}) {
            AuthenticationException e = assertThrows(AuthenticationException.class, () -> g.sharedSecret(a, peer));
            assertEquals(AuthMessages.REASON_DHGROUP_UNUSABLE, e.reason());
        }
    }

    private static byte[] fixed(BigInteger v, int length) {
        byte[] raw = v.toByteArray();
        byte[] out = new byte[length];
        int n = Math.min(raw.length, length);
        System.arraycopy(raw, raw.length - n, out, length - n, n);
        return out;
    }
}
