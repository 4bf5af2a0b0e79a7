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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DriveTest {
    private static final int SEGMENT = 2 << 20;
    private final UUID node = UUID.randomUUID();

    @Test
    void aMissingFileIsCreatedAndFormattedAndOpensAgain(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("d0");
        Superblock first;
        try (Drive drive = Drive.open(path, node, 0, SEGMENT, 64L << 20)) {
            first = drive.superblock();
            assertEquals(31, first.segmentCount());
            assertEquals(node, first.nodeId());
        }
        try (Drive drive = Drive.open(path, node, 0, SEGMENT, 64L << 20)) {
            assertEquals(first, drive.superblock());
        }
    }

    @Test
    void aBlankDeviceIsFormatted(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("blank");
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(32L << 20);
        }
        try (Drive drive = Drive.open(path, node, 0, SEGMENT, 0)) {
            assertEquals(15, drive.superblock().segmentCount());
        }
    }

    @Test
    void aDriveOfAnotherNodeIsRefused(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("d0");
        Drive.open(path, UUID.randomUUID(), 0, SEGMENT, 64L << 20).close();
        DriveFormatException e = assertThrows(DriveFormatException.class,
                () -> Drive.open(path, node, 0, SEGMENT, 64L << 20));
        assertTrue(e.getMessage().contains("belongs to node") && e.getMessage().contains(node.toString()),
                e.getMessage());
    }

    @Test
    void aNewerFormatIsRefused(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("d0");
        Drive.open(path, node, 0, SEGMENT, 64L << 20).close();
        Superblock current;
        try (Drive drive = Drive.open(path, node, 0, SEGMENT, 64L << 20)) {
            current = drive.superblock();
        }
        Superblock newer = new Superblock(Superblock.CURRENT_FORMAT + 1, current.segmentSize(), node,
                current.driveId(), current.firstSegmentOffset(), current.segmentCount(), 0, current.createdMillis());
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.write(newer.encode().array());
        }
        DriveFormatException e = assertThrows(DriveFormatException.class,
                () -> Drive.open(path, node, 0, SEGMENT, 64L << 20));
        assertTrue(e.getMessage().contains("newer"), e.getMessage());
    }

    @Test
    void somethingElseIsNeverFormatted(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("other");
        byte[] junk = new byte[8 << 20];
        new Random(5).nextBytes(junk);
        Files.write(path, junk);
        DriveFormatException e = assertThrows(DriveFormatException.class,
                () -> Drive.open(path, node, 0, SEGMENT, 0));
        assertTrue(e.getMessage().contains("not a Basalt drive"), e.getMessage());
        byte[] after = Files.readAllBytes(path);
        assertEquals(ByteBuffer.wrap(junk), ByteBuffer.wrap(after), "left untouched");
    }

    @Test
    void aDamagedSuperblockAndAWrongOrderAreRefused(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        DriveSet.open(List.of(a, b), node, SEGMENT, 64L << 20).close();
        DriveFormatException order = assertThrows(DriveFormatException.class,
                () -> DriveSet.open(List.of(b, a), node, SEGMENT, 64L << 20));
        assertTrue(order.getMessage().contains("drive order"), order.getMessage());
        try (RandomAccessFile file = new RandomAccessFile(a.toFile(), "rw")) {
            file.seek(20);
            file.write(0x55);
        }
        DriveFormatException damaged = assertThrows(DriveFormatException.class,
                () -> DriveSet.open(List.of(a, b), node, SEGMENT, 64L << 20));
        assertTrue(damaged.getMessage().contains("checksum"), damaged.getMessage());
        try (DriveSet set = DriveSet.open(List.of(b), node, SEGMENT, 64L << 20)) {
            throw new AssertionError("drive b is drive 1, not 0");
        } catch (DriveFormatException expected) {
            assertTrue(expected.getMessage().contains("drive 1"));
        }
    }
}
