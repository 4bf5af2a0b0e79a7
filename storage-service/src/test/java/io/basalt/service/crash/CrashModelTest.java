package io.basalt.service.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The crash test's own checker: it must tell whole, torn, misplaced, lost and resurrected blocks apart. */
class CrashModelTest {
    private static final int BS = 512;
    private static final long RUN = 0x1234_5678_9abcL;

    private static byte[] block(long lba, long gen, int writer) {
        byte[] b = new byte[BS];
        BlockPattern.fill(b, 0, BS, RUN, lba, gen, writer);
        return b;
    }

    private static BlockPattern.Content decode(byte[] b) {
        return BlockPattern.decode(b, 0, BS, RUN, new byte[BS]);
    }

    @Test
    void blocksDecodeWholeOrNot() {
        assertEquals(new BlockPattern.Valid(7, 3, 1), decode(block(7, 3, 1)));
        assertInstanceOf(BlockPattern.Zero.class, decode(new byte[BS]));

        byte[] flipped = block(7, 3, 1);
        flipped[200] ^= 1;
        assertTrue(decode(flipped) instanceof BlockPattern.Bad bad && bad.why().contains("torn"), decode(flipped)::toString);

        byte[] torn = block(7, 3, 1);
        Arrays.fill(torn, BS / 2, BS, (byte) 0);
        assertInstanceOf(BlockPattern.Bad.class, decode(torn));

        byte[] mixed = block(7, 3, 1);
        System.arraycopy(block(7, 4, 1), 256, mixed, 256, 256);
        assertInstanceOf(BlockPattern.Bad.class, decode(mixed), "halves of two generations");

        byte[] compressible = new byte[BS];
        BlockPattern.fill(compressible, 0, BS, RUN | 1, 7, 3, 1);
        assertEquals(new BlockPattern.Valid(7, 3, 1), BlockPattern.decode(compressible, 0, BS, RUN | 1, new byte[BS]));
        assertEquals(compressible[BS - 100], compressible[BS - 100 - 8], "the fill repeats");

        byte[] otherRun = new byte[BS];
        BlockPattern.fill(otherRun, 0, BS, RUN + 1, 7, 3, 1);
        assertInstanceOf(BlockPattern.Bad.class, decode(otherRun));
    }

    @Test
    void theModelAcceptsExactlyWhatMayBeThere() {
        VolumeModel m = new VolumeModel(BS, 64, 2, RUN); // writer 0: 0..31, writer 1: 32..63
        VolumeModel.OpLog log = m.logs[0];
        // generation 1 writes 0..3, acknowledged and flushed
        long g1 = log.append(0, 4, false);
        set(m, 0, 4, g1, true, true, false);
        // generation 2 writes 2..5, acknowledged, not flushed
        long g2 = log.append(2, 4, false);
        set(m, 2, 4, g2, true, false, false);
        // generation 3 unmaps 4..5, issued only
        long g3 = log.append(4, 2, true);
        set(m, 4, 2, g3, false, false, true);

        assertNull(m.check(0, decode(block(0, g1, 0))));
        assertNotNull(m.check(0, decode(new byte[BS])), "a flushed write lost");
        assertNull(m.check(2, decode(block(2, g2, 0))));
        assertNull(m.check(2, decode(block(2, g1, 0))), "the unflushed generation 2 may be lost");
        assertNotNull(m.check(2, decode(new byte[BS])), "but not generation 1 under it");
        assertNull(m.check(4, decode(new byte[BS])), "never flushed, and an unmap was issued");
        assertNull(m.check(4, decode(block(4, g2, 0))));
        assertNotNull(m.check(4, decode(block(4, g1, 0))), "generation 1 never wrote block 4");
        assertNotNull(m.check(1, decode(block(0, g1, 0))), "misplaced");
        assertNotNull(m.check(40, decode(block(40, g1, 0))), "written by the wrong writer");
        assertNotNull(m.check(0, decode(block(0, 9, 0))), "never issued");
        assertNull(m.check(10, decode(new byte[BS])), "never written");

        // what was read becomes the baseline: block 2 came back as generation 1, generation 2 was lost
        m.rebase(2, decode(block(2, g1, 0)));
        assertNull(m.check(2, decode(block(2, g1, 0))));
        assertNotNull(m.check(2, decode(block(2, g2, 0))), "a lost write must not come back later");
        long g4 = log.append(2, 1, false);
        set(m, 2, 1, g4, true, true, false);
        assertNull(m.check(2, decode(block(2, g4, 0))));
        assertNotNull(m.check(2, decode(block(2, g1, 0))), "the baseline is older than the flushed generation 4");

        // after a graceful stop the last acknowledged generation must be there exactly
        assertNull(m.checkExact(0, decode(block(0, g1, 0))));
        assertNotNull(m.checkExact(3, decode(block(3, g1, 0))), "generation 2 was acknowledged");
        assertNull(m.checkExact(3, decode(block(3, g2, 0))));
    }

    private static void set(VolumeModel m, int first, int n, long gen, boolean acked, boolean durable, boolean trim) {
        for (int lba = first; lba < first + n; lba++) {
            m.issued[lba] = gen;
            if (trim) {
                m.lastTrim[lba] = gen;
            }
            if (acked) {
                m.acked[lba] = gen;
            }
            if (durable) {
                m.durable[lba] = gen;
            }
        }
    }
}
