package io.basalt.service.engine.drive;

import org.junit.jupiter.api.Test;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryDriveTest {
    private static final long CHUNK = 4 << 20;

    @Test
    void writesAcrossChunksReadBackAndUnwrittenPlacesAreZeros() throws Exception {
        MemoryMedia media = new MemoryMedia();
        Path path = Path.of("memory-drive-0");
        assertNull(media.open(path), "nothing there before it is created");
        DriveIo drive = media.create(path, 3 * CHUNK, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        assertSame(drive, media.open(path), "the same drive while the process lives");
        byte[] data = new byte[300];
        new Random(7).nextBytes(data);
        ByteBuffer[] parts = {ByteBuffer.wrap(data, 0, 100), ByteBuffer.allocateDirect(200).put(data, 100, 200).flip()};
        drive.write(parts, CHUNK - 100);
        ByteBuffer back = ByteBuffer.allocateDirect(300);
        assertTrue(drive.readCached(back, CHUNK - 100), "memory never makes a reader wait");
        byte[] read = new byte[300];
        back.flip().get(read);
        assertArrayEquals(data, read);
        ByteBuffer head = ByteBuffer.allocate(4);
        drive.read(head, 0);
        assertArrayEquals(new byte[] {1, 2, 3, 0}, head.array());
        ByteBuffer untouched = ByteBuffer.allocate(64);
        drive.read(untouched, 2 * CHUNK + 5);
        assertArrayEquals(new byte[64], untouched.array(), "a chunk never written reads as zeros");
        ByteBuffer partChunk = ByteBuffer.allocate(8);
        DriveIo small = media.create(Path.of("memory-drive-1"), CHUNK + 8, ByteBuffer.allocate(0));
        small.read(partChunk, CHUNK);
        assertArrayEquals(new byte[8], partChunk.array(), "a drive that ends inside a chunk has its last bytes");
        assertEquals(3 * CHUNK, drive.size());
        assertThrows(EOFException.class, () -> drive.read(ByteBuffer.allocate(2), 3 * CHUNK - 1));
        assertThrows(EOFException.class, () -> drive.write(new ByteBuffer[] {ByteBuffer.allocate(2)}, 3 * CHUNK - 1));
        drive.close();
        assertSame(drive, media.open(path), "a closed drive stays in its media for a reopen");
        media.close();
    }

    /**
     * Closing the media frees the drives' memory, which the garbage collector would not do in time for
     * gigabytes off its heap: a drive used afterwards fails instead of reading freed memory. (With a
     * media that left its memory to the garbage collector, the read after close succeeded.)
     */
    @Test
    void closingTheMediaFreesItsDrives() throws Exception {
        MemoryMedia media = new MemoryMedia();
        DriveIo drive = media.create(Path.of("memory-drive-0"), CHUNK, ByteBuffer.wrap(new byte[] {9}));
        media.close();
        assertNull(media.open(Path.of("memory-drive-0")));
        assertThrows(IllegalStateException.class, () -> drive.read(ByteBuffer.allocate(1), 0));
    }
}
