package io.basalt.service.engine;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An engine on small drive files in a temporary directory, with synchronous I/O helpers and block
 * contents derived from a "tag" (0 = zeros), so models only keep one long per block.
 */
final class EngineHarness implements AutoCloseable {
    static final int BLOCK = 4096;
    static final int SEGMENT = 2 << 20;

    final Path dir;
    final UUID node = UUID.randomUUID();
    final long driveBytes;
    final int driveCount;
    final long throttleMillis;
    final long checkpointEveryBytes;
    Engine engine;

    /**
     * A 10 s throttle: it bounds only how long a write waits for garbage collection to free a segment,
     * which on a loaded machine took more than the 500 ms this was (GarbageCollectionTest got NO_SPACE
     * at 80% full); a write that cannot get space because nothing is reclaimable fails at once anyway.
     */
    EngineHarness(Path dir, long driveBytes) throws IOException {
        this(dir, driveBytes, 1, 10_000, 8L << 20);
    }

    EngineHarness(Path dir, long driveBytes, int driveCount, long throttleMillis, long checkpointEveryBytes)
            throws IOException {
        this.dir = dir;
        this.driveBytes = driveBytes;
        this.driveCount = driveCount;
        this.throttleMillis = throttleMillis;
        this.checkpointEveryBytes = checkpointEveryBytes;
        this.engine = Engine.open(config());
    }

    EngineConfig config() {
        List<Path> drives = new java.util.ArrayList<>();
        for (int i = 0; i < driveCount; i++) {
            drives.add(dir.resolve("drive" + i));
        }
        return new EngineConfig(drives, driveBytes, dir.resolve("meta"), node, SEGMENT, false,
                checkpointEveryBytes, 600_000, throttleMillis, 4.0);
    }

    Path drive(int index) {
        return dir.resolve("drive" + index);
    }

    /** Closes cleanly (final checkpoint) and opens again. */
    void reopen() throws IOException {
        engine.close();
        engine = Engine.open(config());
    }

    /** Stops like kill -9 (no final checkpoint) and opens again, recovering from the log. */
    void crashAndReopen() throws IOException {
        engine.crashForTest();
        engine = Engine.open(config());
    }

    /** Stops like kill -9, loses every checkpoint on the drives and opens again: a full scan rebuilds the maps. */
    void crashLoseCheckpointAndReopen() throws IOException {
        engine.crashForTest();
        for (int i = 0; i < driveCount; i++) {
            OnDriveCheckpoints.eraseAll(OnDriveCheckpoints.file(drive(i)), SEGMENT);
        }
        engine = Engine.open(config());
    }

    EngineVolume volume(int id) {
        return engine.volume(id).orElseThrow();
    }

    @Override
    public void close() throws IOException {
        engine.close();
    }

    // ---- block contents ----

    /** Contents of a block written with {@code tag} at {@code lba}; tags divisible by 3 are compressible. */
    static byte[] content(long tag, long lba) {
        byte[] block = new byte[BLOCK];
        if (tag == 0) {
            return block;
        }
        ByteBuffer b = ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN);
        if (tag % 3 == 0) {
            while (b.remaining() >= 16) {
                b.putLong(tag).putLong(lba);
            }
        } else {
            new Random(tag * 1_000_003L + lba).nextBytes(block);
            b.putLong(0, tag).putLong(8, lba);
        }
        return block;
    }

    /** The tag a block read back was written with (its first 8 bytes), 0 for zeros. */
    static long tagOf(byte[] block) {
        return ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    // ---- synchronous I/O ----

    static IoResult await(CompletableFuture<IoResult> status) {
        try {
            return status.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("I/O did not complete", e);
        }
    }

    static CompletableFuture<IoResult> writeAsync(EngineVolume v, long lba, long[] tags, boolean fua) {
        ByteBuf data = Unpooled.buffer(tags.length * BLOCK);
        for (int i = 0; i < tags.length; i++) {
            data.writeBytes(content(tags[i], lba + i));
        }
        CompletableFuture<IoResult> done = new CompletableFuture<>();
        v.write(lba, tags.length, data, fua, done::complete);
        return done;
    }

    static IoResult write(EngineVolume v, long lba, long... tags) {
        return await(writeAsync(v, lba, tags, false));
    }

    static IoResult unmap(EngineVolume v, long lba, int blocks) {
        CompletableFuture<IoResult> done = new CompletableFuture<>();
        v.unmap(lba, blocks, done::complete);
        return await(done);
    }

    static IoResult flush(EngineVolume v) {
        CompletableFuture<IoResult> done = new CompletableFuture<>();
        v.flush(done::complete);
        return await(done);
    }

    /**
     * Reads blocks into a direct buffer, as the target does: from memory on this thread when the
     * drive file's pages are cached, else on the read pool. The status goes to {@code status[0]}.
     */
    static byte[] read(EngineVolume v, long lba, int blocks, IoResult[] status) {
        return read(v, lba, blocks, status, Unpooled.directBuffer(blocks * BLOCK));
    }

    /** Reads blocks into a heap buffer, which the memory-only path cannot fill: always on the read pool. */
    static byte[] readOnPool(EngineVolume v, long lba, int blocks, IoResult[] status) {
        return read(v, lba, blocks, status, Unpooled.buffer(blocks * BLOCK));
    }

    private static byte[] read(EngineVolume v, long lba, int blocks, IoResult[] status, ByteBuf dst) {
        try {
            CompletableFuture<IoResult> done = new CompletableFuture<>();
            v.read(lba, blocks, dst, done::complete);
            status[0] = await(done);
            byte[] bytes = new byte[dst.readableBytes()];
            dst.readBytes(bytes);
            return bytes;
        } finally {
            dst.release();
        }
    }

    /** Asserts that every block of {@code v} holds what {@code tags} says. */
    static void verify(EngineVolume v, long[] tags, String what) {
        assertEquals(tags.length, v.blockCount(), what + ": size");
        IoResult[] status = new IoResult[1];
        int run = 64;
        for (int lba = 0; lba < tags.length; lba += run) {
            int n = Math.min(run, tags.length - lba);
            byte[] bytes = read(v, lba, n, status);
            assertEquals(IoResult.OK, status[0], what + ": read status at " + lba);
            for (int i = 0; i < n; i++) {
                byte[] expected = content(tags[lba + i], lba + i);
                byte[] actual = java.util.Arrays.copyOfRange(bytes, i * BLOCK, (i + 1) * BLOCK);
                if (!java.util.Arrays.equals(expected, actual)) {
                    assertArrayEquals(expected, actual, what + ": block " + (lba + i) + " expected tag "
                            + tags[lba + i] + " found tag " + tagOf(actual));
                }
            }
        }
    }
}
