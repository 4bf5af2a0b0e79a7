package io.basalt.service.engine;

import io.basalt.service.engine.drive.DriveFormatException;
import io.basalt.service.engine.drive.MemoryMedia;
import io.basalt.service.engine.ec.ErasureCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static io.basalt.service.engine.EngineHarness.BLOCK;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine on six drives erasure-coded 4+2 (docs/storage-engine.md, "Stripe layout"): drives fail
 * at random points while volumes are overwritten and garbage collection runs, and every acknowledged
 * block must read back as the model says, before and after a restart without the failed drives; a
 * third failure makes reads fail with a media error, never return wrong data.
 */
class ErasureCodedEngineTest {
    private static final int SEGMENT = 2 << 20;
    private static final int DRIVES = 6;
    private static final long DRIVE_BYTES = (1 << 20) + 5L * SEGMENT;
    private static final int VOLUME_BLOCKS = 3072;
    private static final int OPERATIONS = 2400;

    private final UUID node = UUID.randomUUID();
    private final FailingDrives media = new FailingDrives(new MemoryMedia());

    /** Frees the memory drives' memory. */
    @AfterEach
    void freeDrives() {
        media.close();
    }

    private EngineConfig config(ErasureCode code, int drives) {
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < drives; i++) {
            paths.add(drive(i));
        }
        return new EngineConfig(paths, DRIVE_BYTES, Path.of("ec", "meta"), node, SEGMENT, false, 4L << 20, 600_000,
                5_000, 4.0, false, code);
    }

    private static Path drive(int index) {
        return Path.of("ec", "drive" + index);
    }

    @Test
    void twoDrivesFailingAtRandomPointsLoseNoAcknowledgedBlock() throws Exception {
        long seed = Long.getLong("basalt.ec.seed", System.nanoTime());
        for (int run = 0; run < 2; run++) {
            long runSeed = seed + run;
            try {
                new ErasureCodedEngineTest().failTwoThenThree(runSeed);
            } catch (AssertionError | Exception e) {
                throw new AssertionError("seed " + runSeed + " (-Dbasalt.ec.seed=" + runSeed + ")", e);
            }
        }
    }

    private void failTwoThenThree(long seed) throws Exception {
        Random random = new Random(seed);
        Engine engine = Engine.open(config(new ErasureCode(4, 2), DRIVES), media);
        assertEquals(new ErasureCode(4, 2), engine.erasureCode());
        int id = engine.createVolume(BLOCK, VOLUME_BLOCKS, random.nextBoolean());
        EngineVolume volume = engine.volume(id).orElseThrow();
        long[] model = new long[VOLUME_BLOCKS];
        int firstFailure = 200 + random.nextInt(OPERATIONS / 2);
        int secondFailure = firstFailure + 100 + random.nextInt(OPERATIONS - firstFailure - 200);
        List<Integer> failed = new ArrayList<>();
        long tag = seed << 20;
        for (int op = 0; op < OPERATIONS; op++) {
            if (op == firstFailure || op == secondFailure) {
                int drive;
                do {
                    drive = random.nextInt(DRIVES);
                } while (failed.contains(drive));
                failed.add(drive);
                media.fail(drive(drive));
            }
            int blocks = 1 + random.nextInt(8);
            long lba = random.nextInt(VOLUME_BLOCKS - blocks + 1);
            long[] tags = new long[blocks];
            for (int i = 0; i < blocks; i++) {
                tags[i] = ++tag;
            }
            assertEquals(IoResult.OK, EngineHarness.write(volume, lba, tags), "write " + op);
            System.arraycopy(tags, 0, model, (int) lba, blocks);
            if (op % 400 == 399) {
                assertEquals(IoResult.OK, EngineHarness.flush(volume));
                EngineHarness.verify(volume, model, "after " + (op + 1) + " writes, drives " + failed + " failed");
            }
        }
        assertTrue(engine.counters().relocatedBytes() > 0, "garbage collection ran while drives failed");
        assertEquals(IoResult.OK, EngineHarness.flush(volume));
        assertEquals(failed.size(), engine.failedDrives().size(), engine.failedDrives().toString());

        engine.crashForTest();
        engine = Engine.open(config(null, DRIVES), media);
        assertEquals(2, engine.failedDrives().size(), "unreadable at start: " + engine.failedDrives());
        volume = engine.volume(id).orElseThrow();
        EngineHarness.verify(volume, model, "after a restart without drives " + failed);
        assertEquals(IoResult.OK, EngineHarness.write(volume, 0, ++tag), "writes go on degraded");
        model[0] = tag;
        assertEquals(IoResult.OK, EngineHarness.flush(volume));

        int third;
        do {
            third = random.nextInt(DRIVES);
        } while (failed.contains(third));
        media.fail(drive(third));
        IoResult[] status = new IoResult[1];
        int mediaErrors = 0;
        for (int lba = 0; lba < VOLUME_BLOCKS; lba += 7) {
            byte[] read = EngineHarness.read(volume, lba, 1, status);
            if (status[0] == IoResult.MEDIA_ERROR) {
                mediaErrors++;
            } else {
                assertEquals(IoResult.OK, status[0]);
                assertArrayEquals(EngineHarness.content(model[lba], lba), read, "block " + lba);
            }
        }
        assertTrue(mediaErrors > 0, "a third failure of 4+2 loses stripes");
        assertNotEquals(IoResult.OK, EngineHarness.write(volume, 1, ++tag), "nothing is acknowledged unprotected");
        engine.crashForTest();
        DriveFormatException refused = assertThrows(DriveFormatException.class,
                () -> Engine.open(config(null, DRIVES), media));
        assertTrue(refused.getMessage().contains("more than the 2"), refused.getMessage());
    }

    /**
     * A drive that returns damaged chunks without an error: every block touching them fails its CRC and
     * is rebuilt from the other drives. Shown failing (media errors) with the rebuild on checksum
     * failure taken out of EngineVolume.
     */
    @Test
    void blocksOnADriveThatReturnsDamagedChunksAreRebuilt() throws Exception {
        Random random = new Random(7);
        try (Engine engine = Engine.open(config(new ErasureCode(4, 2), DRIVES), media)) {
            int id = engine.createVolume(BLOCK, 512, false);
            EngineVolume volume = engine.volume(id).orElseThrow();
            long[] model = new long[512];
            for (int lba = 0; lba < 512; lba += 8) {
                long[] tags = new long[8];
                for (int i = 0; i < 8; i++) {
                    tags[i] = 1000 + lba + i;
                }
                assertEquals(IoResult.OK, EngineHarness.write(volume, lba, tags));
                System.arraycopy(tags, 0, model, lba, 8);
            }
            assertEquals(IoResult.OK, EngineHarness.flush(volume));
            byte[] garbage = new byte[(int) (DRIVE_BYTES - (1 << 20))];
            random.nextBytes(garbage);
            media.open(drive(3)).write(new java.nio.ByteBuffer[] {java.nio.ByteBuffer.wrap(garbage)}, 1 << 20);
            EngineHarness.verify(volume, model, "with drive 3's chunks damaged");
            assertTrue(engine.counters().checksumErrors() > 0, "the damage was seen");
            assertTrue(engine.failedDrives().isEmpty(), "a checksum error does not fail a drive");
        }
    }

    @Test
    void aNodeWithFewerDrivesThanTheStripeWidthIsRefused() {
        DriveFormatException e = assertThrows(DriveFormatException.class,
                () -> Engine.open(config(new ErasureCode(4, 2), 5), media));
        assertTrue(e.getMessage().contains("needs at least 6 drives"), e.getMessage());
    }

    @Test
    void aNodeKeepsTheLayoutItsDrivesWereFormattedWith() throws Exception {
        Engine.open(config(null, 3), media).close();
        try (Engine engine = Engine.open(config(null, 3), media)) {
            assertEquals(new ErasureCode(2, 1), engine.erasureCode(), "the default for 3 drives");
        }
        DriveFormatException e = assertThrows(DriveFormatException.class,
                () -> Engine.open(config(ErasureCode.NONE, 3), media));
        assertTrue(e.getMessage().contains("keeps the layout"), e.getMessage());
    }

    @Test
    void defaultsFollowTheDriveCount() {
        assertEquals(ErasureCode.NONE, ErasureCode.defaultFor(2));
        assertEquals(new ErasureCode(2, 1), ErasureCode.defaultFor(5));
        assertEquals(new ErasureCode(4, 2), ErasureCode.defaultFor(6));
        assertEquals(new ErasureCode(4, 2), ErasureCode.parse("4+2"));
        assertThrows(IllegalArgumentException.class, () -> ErasureCode.parse("3+1"));
        assertEquals(Arrays.asList(ErasureCode.NONE), List.of(ErasureCode.parse("none")));
    }
}
