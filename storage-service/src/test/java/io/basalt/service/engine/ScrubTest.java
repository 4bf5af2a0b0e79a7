package io.basalt.service.engine;

import io.basalt.service.engine.ec.ErasureCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static io.basalt.service.engine.EngineHarness.BLOCK;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scrub against chunks damaged on the drive files behind the engine's back (no I/O error: a drive
 * returning other bytes than it was given). Six drive files at 4+2: one damaged chunk of a segment is
 * found and rewritten, then two at once (a data and a parity chunk, the most 4+2 repairs), each time the
 * drive files get back exactly the bytes they had; three damaged chunks are reported as beyond repair,
 * nothing is written, and every block reads back right or as a media error, never as other data. Without
 * erasure coding a damaged block is reported, and nothing can be repaired. Shown failing with the
 * repair's writes left out of {@code StripeScrub}: "expected: <1> but was: <0>" chunks repaired.
 */
class ScrubTest {
    private static final int SEGMENT = 2 << 20;
    private static final long FIRST_SEGMENT = 1 << 20;
    private static final int VOLUME_BLOCKS = 768;
    /** The damaged rows of a segment: logical bytes 8 KiB to 24 KiB, inside the first batch's blocks. */
    private static final int FIRST_ROW = 2;
    private static final int ROWS = 4;
    /** A stripe row: 4 KiB of the segment, 4096 / k bytes of each data chunk (docs/storage-engine.md). */
    private static final int ROW = 4096;

    @Test
    void repairsUpToMDamagedChunksOfAStripeAndReportsMore(@TempDir Path dir) throws Exception {
        ErasureCode code = new ErasureCode(4, 2);
        EngineConfig config = config(dir, 6, code);
        Engine engine = Engine.open(config);
        int id = engine.createVolume(BLOCK, VOLUME_BLOCKS, false);
        long[] tags = writeAll(engine, id);
        engine.close();
        engine = Engine.open(config);
        try {
            assertEquals(List.of(), engine.scrubForTest(), "nothing damaged yet");
            assertTrue(engine.scrubStatus().scannedBytes() >= (long) VOLUME_BLOCKS * BLOCK);
            int chunk = ROW / code.k();
            int segment = segmentWithData(dir, code, chunk);

            List<byte[]> intact = snapshot(dir, 6);
            damage(dir, code, segment, new int[] {1}, chunk);
            assertEquals(List.of(), engine.scrubForTest());
            assertEquals(1, engine.scrubStatus().repairedChunks());
            assertEquals((long) ROWS * chunk, engine.scrubStatus().repairedBytes());
            assertDrivesEqual(intact, snapshot(dir, 6));

            damage(dir, code, segment, new int[] {0, code.k()}, chunk);
            assertEquals(List.of(), engine.scrubForTest());
            assertEquals(3, engine.scrubStatus().repairedChunks());
            assertDrivesEqual(intact, snapshot(dir, 6));
            verifyAll(engine, id, tags, false);

            damage(dir, code, segment, new int[] {0, 2, code.k() + 1}, chunk);
            List<byte[]> damaged = snapshot(dir, 6);
            assertEquals(List.of(segment), engine.scrubForTest());
            assertEquals(1, engine.scrubStatus().unrepairableFound());
            assertEquals(List.of(segment), engine.scrubStatus().unrepairableSegments());
            assertEquals(3, engine.scrubStatus().repairedChunks(), "nothing repaired beyond m");
            assertDrivesEqual(damaged, snapshot(dir, 6));
            verifyAll(engine, id, tags, true);
        } finally {
            engine.close();
        }
    }

    @Test
    void withoutErasureCodingADamagedBlockIsReported(@TempDir Path dir) throws Exception {
        EngineConfig config = config(dir, 1, ErasureCode.NONE);
        Engine engine = Engine.open(config);
        int id = engine.createVolume(BLOCK, VOLUME_BLOCKS, false);
        long[] tags = writeAll(engine, id);
        engine.close();
        engine = Engine.open(config);
        try {
            assertEquals(List.of(), engine.scrubForTest());
            int segment = segmentWithData(dir, ErasureCode.NONE, ROW);
            try (RandomAccessFile file = new RandomAccessFile(dir.resolve("drive0").toFile(), "rw")) {
                file.seek(FIRST_SEGMENT + (long) segment * SEGMENT + FIRST_ROW * ROW);
                file.write(garbage(ROWS * ROW));
            }
            assertEquals(List.of(segment), engine.scrubForTest());
            assertEquals(1, engine.scrubStatus().unrepairableFound());
            assertEquals(0, engine.scrubStatus().repairedChunks());
            verifyAll(engine, id, tags, true);
        } finally {
            engine.close();
        }
    }

    private static EngineConfig config(Path dir, int drives, ErasureCode code) {
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < drives; i++) {
            paths.add(dir.resolve("drive" + i));
        }
        long driveBytes = FIRST_SEGMENT + (code.enabled() ? 8L : 16L) * SEGMENT;
        return new EngineConfig(paths, driveBytes, dir.resolve("meta"), new UUID(4, 2), SEGMENT, false, 64L << 20,
                600_000, 500, 4.0, false, code);
    }

    private static long[] writeAll(Engine engine, int id) {
        long[] tags = new long[VOLUME_BLOCKS];
        for (int lba = 0; lba < VOLUME_BLOCKS; lba += 64) {
            long[] some = new long[64];
            for (int i = 0; i < some.length; i++) {
                some[i] = 1000 + lba + i;
                tags[lba + i] = some[i];
            }
            assertEquals(IoResult.OK, EngineHarness.write(engine.volume(id).orElseThrow(), lba, some));
        }
        assertEquals(IoResult.OK, EngineHarness.flush(engine.volume(id).orElseThrow()));
        return tags;
    }

    /**
     * Where chunk {@code index} of a segment lies (docs/storage-engine.md, "Stripe layout"): with as many
     * drives as the stripe is wide, on drive (index + segment) mod n, in its slot {@code segment}.
     */
    private static int driveOf(ErasureCode code, int segment, int index) {
        return (index + segment) % code.width();
    }

    /** The first log segment whose damaged rows hold data: its header's magic is "BSEG". */
    private static int segmentWithData(Path dir, ErasureCode code, int chunk) throws IOException {
        int area = code.enabled() ? SEGMENT / code.k() : SEGMENT;
        for (int segment = 0; segment < 16; segment++) {
            int drive = code.enabled() ? driveOf(code, segment, 0) : 0;
            byte[] head = new byte[4];
            byte[] rows = new byte[ROWS * chunk];
            try (RandomAccessFile file = new RandomAccessFile(dir.resolve("drive" + drive).toFile(), "r")) {
                file.seek(FIRST_SEGMENT + (long) segment * area);
                file.readFully(head);
                file.seek(FIRST_SEGMENT + (long) segment * area + (long) FIRST_ROW * chunk);
                file.readFully(rows);
            }
            if (Arrays.equals(head, new byte[] {'B', 'S', 'E', 'G'}) && !Arrays.equals(rows, new byte[rows.length])) {
                return segment;
            }
        }
        throw new AssertionError("no log segment holds data");
    }

    /** Overwrites the damaged rows of the given chunks of the segment with random bytes. */
    private static void damage(Path dir, ErasureCode code, int segment, int[] chunks, int chunk) throws IOException {
        for (int index : chunks) {
            try (RandomAccessFile file = new RandomAccessFile(
                    dir.resolve("drive" + driveOf(code, segment, index)).toFile(), "rw")) {
                file.seek(FIRST_SEGMENT + (long) segment * (SEGMENT / code.k()) + (long) FIRST_ROW * chunk);
                file.write(garbage(ROWS * chunk));
            }
        }
    }

    private static byte[] garbage(int length) {
        byte[] bytes = new byte[length];
        new Random(length).nextBytes(bytes);
        return bytes;
    }

    private static List<byte[]> snapshot(Path dir, int drives) throws IOException {
        List<byte[]> files = new ArrayList<>();
        for (int i = 0; i < drives; i++) {
            files.add(java.nio.file.Files.readAllBytes(dir.resolve("drive" + i)));
        }
        return files;
    }

    private static void assertDrivesEqual(List<byte[]> expected, List<byte[]> actual) {
        for (int i = 0; i < expected.size(); i++) {
            assertTrue(Arrays.equals(expected.get(i), actual.get(i)), "drive " + i + " differs");
        }
    }

    /** Reads every block alone: it must hold its tag's content, or (if {@code mayFail}) fail with a media error. */
    private static void verifyAll(Engine engine, int id, long[] tags, boolean mayFail) {
        IoResult[] status = new IoResult[1];
        int failed = 0;
        for (int lba = 0; lba < tags.length; lba++) {
            byte[] block = EngineHarness.read(engine.volume(id).orElseThrow(), lba, 1, status);
            if (status[0] == IoResult.MEDIA_ERROR && mayFail) {
                failed++;
                continue;
            }
            assertEquals(IoResult.OK, status[0], "block " + lba);
            assertArrayEquals(EngineHarness.content(tags[lba], lba), block, "block " + lba);
        }
        if (mayFail) {
            assertTrue(failed > 0, "the damage beyond repair reached no block");
        }
    }
}
