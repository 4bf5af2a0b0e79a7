package io.basalt.service.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

import static io.basalt.service.engine.EngineHarness.BLOCK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node of drive format 2 keeps its checkpoint in the data directory. Opened by this version, it
 * recovers from that file (read once), writes its next checkpoint to the drives, deletes the file and
 * marks its drives format 3; from then on it recovers from its drives alone.
 */
class LegacyCheckpointUpgradeTest {

    @Test
    void aFormat2NodeReadsItsCheckpointFileOnceAndThenRecoversFromItsDrives(@TempDir Path dir) throws Exception {
        EngineHarness h = new EngineHarness(dir, 64L << 20);
        int id = h.engine.createVolume(BLOCK, 1024, false);
        long[] model = new long[1024];
        for (int lba = 0; lba < 1024; lba += 3) {
            model[lba] = lba + 7;
            assertEquals(IoResult.OK, EngineHarness.write(h.volume(id), lba, model[lba]));
        }
        assertEquals(IoResult.OK, EngineHarness.flush(h.volume(id)));
        h.engine.crashForTest();
        // What a format-2 node left: no checkpoint segments, format 2 superblock, and a checkpoint file,
        // here one of the empty node before its first batch (the log after it is replayed).
        OnDriveCheckpoints.eraseAll(OnDriveCheckpoints.file(h.drive(0)), EngineHarness.SEGMENT);
        setFormat(h.drive(0), 2);
        Path file = dir.resolve("meta").resolve("checkpoint");
        Files.createDirectories(file.getParent());
        Files.write(file, emptyLegacyCheckpoint(segmentCount(h)));

        h.engine = Engine.open(h.config());
        assertTrue(h.engine.recovery().fromLegacyFile(), "recovered from the file");
        EngineHarness.verify(h.volume(id), model, "after the upgrade");
        assertTrue(Files.notExists(file), "the file is deleted once a checkpoint is on the drives");
        assertEquals(3, format(h.drive(0)), "the drive is format 3 now");

        h.crashAndReopen();
        assertFalse(h.engine.recovery().fromLegacyFile());
        assertTrue(h.engine.recovery().fromCheckpoint(), "from the drives' checkpoint");
        EngineHarness.verify(h.volume(id), model, "recovered from the drives alone");
        h.close();
    }

    private static int segmentCount(EngineHarness h) {
        return (int) ((h.driveBytes - (1 << 20)) / EngineHarness.SEGMENT);
    }

    /** The legacy format (see {@code LegacyCheckpointFile}) at sequence 0: every segment free, no map. */
    private static byte[] emptyLegacyCheckpoint(int segments) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeLong(0x42534c54434b5054L);
        out.writeInt(1);
        out.writeLong(0);
        out.writeInt(1);
        out.writeInt(segments);
        for (int s = 0; s < segments; s++) {
            out.writeByte(0);
            out.writeLong(0);
            out.writeLong(0);
        }
        out.writeInt(0);
        out.writeInt(0);
        out.writeInt(0);
        CRC32C crc = new CRC32C();
        crc.update(bytes.toByteArray());
        out.writeInt((int) crc.getValue());
        return bytes.toByteArray();
    }

    private static void setFormat(Path drive, int format) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(drive.toFile(), "rw")) {
            byte[] head = new byte[76];
            file.readFully(head);
            ByteBuffer superblock = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
            superblock.putInt(8, format);
            CRC32C crc = new CRC32C();
            crc.update(head, 0, 72);
            superblock.putInt(72, (int) crc.getValue());
            file.seek(0);
            file.write(head);
        }
    }

    private static int format(Path drive) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(drive.toFile(), "r")) {
            byte[] head = new byte[12];
            file.readFully(head);
            return ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt(8);
        }
    }
}
