package io.basalt.nvmetcp.auth;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Known answers from the real thing: every expected string below was printed by Debian 12's nvme-cli
 * 2.3 ({@code nvme gen-dhchap-key --hmac=H --secret=HEX --nqn=NQN}), which stores the key already
 * transformed with the NQN when H is not 0, so its output checks both the representation (base64 and
 * CRC-32) and the transformation HMAC(key, NQN || "NVMe-over-Fabrics").
 */
class DhchapKeyTest {
    private static final String SECRET_32 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    private static final String SECRET_48 = SECRET_32 + "202122232425262728292a2b2c2d2e2f";
    private static final String SECRET_64 = SECRET_48 + "303132333435363738393a3b3c3d3e3f";
    private static final String UUID_NQN = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001";
    private static final String OTHER_NQN = "nqn.x:other";

    @Test
    void untransformedKeyRoundTripsThroughNvmeCliRepresentation() {
        String cli = "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";
        DhchapKey key = DhchapKey.parse(cli);
        assertEquals(0, key.transformHash());
        assertEquals(cli, DhchapKey.of(0, bytes(SECRET_32)).encode());
        assertEquals(cli, key.encode());
        assertEquals(SECRET_32, HexFormat.of().formatHex(key.transform(UUID_NQN)));
    }

    @Test
    void transformationMatchesNvmeCliForEveryHash() {
        assertTransformed("DHHC-1:01:bHuByyp0b3RFSx1xQPMVO1HKmUWfzveoahfydpW4fNgSLMVm:", 1, SECRET_32, UUID_NQN);
        assertTransformed("DHHC-1:01:zAr6vcW8p32JTRCQ2qbMr3DoQHbvPenQrHfSJJtNkGPVxlth:", 1, SECRET_32, OTHER_NQN);
        assertTransformed("DHHC-1:02:+kDT5xKAuAp15gJjm0wM+pfIM9mw9cRJ0liqcK2hCpEvh2FKAtPxZHQOHPAlt4LEINS5Pg==:",
                2, SECRET_48, OTHER_NQN);
        assertTransformed("DHHC-1:03:sAsX7T1VPquJEkuXcQvhJRReX60Jz+DQ8ZTAm32myMZg2hyrBejJ2pOzMwJBGqBxT2fLeJGbutzhQCNOYbVjf2/9PXM=:",
                3, SECRET_64, OTHER_NQN);
    }

    /** nvme-cli's output holds transform(secret, nqn) labelled with the hash: re-encoding ours must give its string. */
    private static void assertTransformed(String cli, int hash, String secretHex, String nqn) {
        byte[] transformed = DhchapKey.of(hash, bytes(secretHex)).transform(nqn);
        assertEquals(cli, DhchapKey.of(hash, transformed).encode());
        assertEquals(hash, DhchapKey.parse(cli).transformHash());
    }

    @Test
    void randomKeysPrintedByNvmeCliParse() {
        for (String cli : new String[] {
                "DHHC-1:00:iIUAnmnqGpUWVsXpOuB0Fx+lwU0tgouGmxPqXYf8bMmdqnRi:",
                "DHHC-1:02:3BZaD7MyOil/lDyefnnxUY06ShITDcQwq+O+CCrRFoRJCc/1dvwwoEQCXfDXVuCk4C+o4w==:",
                "DHHC-1:03:CIYHlK5JxlO9C2rI0JEMdwh0j093zH/0nQ6GiQQR0xNMH9JNL4XSIdQ7gyv7TvwLvxW8g2tQLC+ceGqGsYHm/rKgyBM=:"}) {
            assertEquals(cli, DhchapKey.parse(cli).encode());
        }
    }

    @Test
    void malformedSecretsAreRefusedWithoutEchoingThem() {
        String good = "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";
        String badCrc = good.replace("KfiaR", "KfiaS");
        String[] bad = {badCrc, "DHHC-1:04:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:",
                "DHHC-2:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:", "DHHC-1:00:AAEC:", "", null,
                "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:trailing"};
        for (String s : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DhchapKey.parse(s));
            assertFalse(e.getMessage().contains("AAECAwQF"), e.getMessage());
        }
        assertFalse(DhchapKey.parse(good).toString().contains("AAECAwQF"));
    }

    private static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex);
    }
}
