package io.basalt.service.engine.drive;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DriveTest {
    private static final int SEGMENT = 2 << 20;
    private final UUID node = UUID.randomUUID();

    @Test
    void aMissingFileIsCreatedAndFormattedAndOpensAgain(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("d0");
        Superblock first;
        try (Drive drive = open(path, node, 64L << 20, false)) {
            first = drive.superblock();
            assertEquals(31, first.segmentCount());
            assertEquals(node, first.nodeId());
        }
        try (Drive drive = open(path, node, 64L << 20, false)) {
            assertEquals(first, drive.superblock());
        }
    }

    @Test
    void aCreatedFileIsPreallocatedAndOnlyAppearsOnceFormatted(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("d0");
        open(path, node, 64L << 20, false).close();
        assertTrue(allocatedBytes(path) >= 64L << 20, "posix_fallocate reserved every block, not a sparse file");
        assertFalse(Files.exists(dir.resolve("d0.partial")));
    }

    @Test
    void aBlankDeviceIsFormattedOnlyWhenAskedTo(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("blank");
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(32L << 20);
        }
        DriveFormatException refused = assertThrows(DriveFormatException.class, () -> open(path, node, 0, false));
        assertTrue(refused.getMessage().contains("engine.format-drives"), refused.getMessage());
        assertEquals(0, Files.readAllBytes(path)[0], "left untouched");
        try (Drive drive = open(path, node, 0, true)) {
            assertEquals(15, drive.superblock().segmentCount());
        }
        try (Drive drive = open(path, node, 0, false)) {
            assertEquals(15, drive.superblock().segmentCount(), "formatted once, then opened as this node's drive");
        }
    }

    @Test
    void aDriveOfAnotherNodeIsRefused(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("d0");
        open(path, UUID.randomUUID(), 64L << 20, false).close();
        DriveFormatException e = assertThrows(DriveFormatException.class,
                () -> open(path, node, 64L << 20, false));
        assertTrue(e.getMessage().contains("belongs to node") && e.getMessage().contains(node.toString()),
                e.getMessage());
    }

    @Test
    void aNewerFormatIsRefused(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("d0");
        open(path, node, 64L << 20, false).close();
        Superblock current;
        try (Drive drive = open(path, node, 64L << 20, false)) {
            current = drive.superblock();
        }
        Superblock newer = new Superblock(Superblock.CURRENT_FORMAT + 1, current.segmentSize(), node,
                current.driveId(), current.firstSegmentOffset(), current.segmentCount(), 0, current.createdMillis(),
                current.erasure());
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.write(newer.encode().array());
        }
        DriveFormatException e = assertThrows(DriveFormatException.class,
                () -> open(path, node, 64L << 20, false));
        assertTrue(e.getMessage().contains("newer"), e.getMessage());
    }

    @Test
    void somethingElseIsNeverFormatted(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("other");
        byte[] junk = new byte[8 << 20];
        new Random(5).nextBytes(junk);
        Files.write(path, junk);
        DriveFormatException e = assertThrows(DriveFormatException.class,
                () -> open(path, node, 0, false));
        assertTrue(e.getMessage().contains("not a Basalt drive"), e.getMessage());
        assertThrows(DriveFormatException.class, () -> open(path, node, 0, true), "not even with formatting on");
        byte[] after = Files.readAllBytes(path);
        assertEquals(ByteBuffer.wrap(junk), ByteBuffer.wrap(after), "left untouched");
    }

    @Test
    void aDamagedSuperblockAndAWrongOrderAreRefused(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        DriveSet.open(FileMedia.INSTANCE, List.of(a, b), node, SEGMENT, 64L << 20, false).close();
        DriveFormatException order = assertThrows(DriveFormatException.class,
                () -> DriveSet.open(FileMedia.INSTANCE, List.of(b, a), node, SEGMENT, 64L << 20, false));
        assertTrue(order.getMessage().contains("drive order"), order.getMessage());
        try (RandomAccessFile file = new RandomAccessFile(a.toFile(), "rw")) {
            // Flipped, not overwritten: byte 20 is in the random node id and may already be any value.
            file.seek(20);
            int value = file.read();
            file.seek(20);
            file.write(value ^ 0xFF);
        }
        DriveFormatException damaged = assertThrows(DriveFormatException.class,
                () -> DriveSet.open(FileMedia.INSTANCE, List.of(a, b), node, SEGMENT, 64L << 20, false));
        assertTrue(damaged.getMessage().contains("checksum"), damaged.getMessage());
        try (DriveSet set = DriveSet.open(FileMedia.INSTANCE, List.of(b), node, SEGMENT, 64L << 20, false)) {
            throw new AssertionError("drive b is drive 1, not 0");
        } catch (DriveFormatException expected) {
            assertTrue(expected.getMessage().contains("drive 1"));
        }
    }

    private static Drive open(Path path, UUID node, long createBytes, boolean formatBlank) throws Exception {
        return Drive.open(FileMedia.INSTANCE, path, node, 0, SEGMENT, createBytes, formatBlank);
    }

    /** Bytes of disk the file holds (st_blocks), which a sparse file does not have. */
    private static long allocatedBytes(Path path) throws Exception {
        Process stat = new ProcessBuilder("stat", "-c", "%b %B", path.toString()).start();
        String[] out = new String(stat.getInputStream().readAllBytes()).trim().split(" ");
        assertEquals(0, stat.waitFor());
        return Long.parseLong(out[0]) * Long.parseLong(out[1]);
    }
}
