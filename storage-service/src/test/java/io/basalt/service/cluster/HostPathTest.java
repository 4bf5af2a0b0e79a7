package io.basalt.service.cluster;

import io.basalt.service.engine.Engine;
import io.basalt.service.engine.EngineConfig;
import io.basalt.service.engine.EngineVolume;
import io.basalt.service.engine.IoResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A copy's path to hosts on a node that is not the volume's primary refuses every command with a path
 * error and leaves the copy, on a real engine, as it was: only the primary writes it. Once the path
 * serves through a store, commands go there. Shown failing with a path that fell back to the copy
 * when it served nothing (the write reached the copy).
 */
class HostPathTest {
    private static final int BLOCK = 4096;

    @Test
    void aPathThatServesNothingRefusesEveryCommandAndLeavesTheCopy(@TempDir Path dir) throws Exception {
        EngineConfig config = new EngineConfig(List.of(dir.resolve("drive0.img")), 256L << 20, dir.resolve("engine"),
                UUID.randomUUID(), 2 << 20, false, 64L << 20, 30_000, 2_000, 10.0);
        try (Engine engine = Engine.open(config)) {
            EngineVolume copy = engine.volume(engine.createVolume(BLOCK, 256, false)).orElseThrow();
            byte[] before = new byte[BLOCK];
            Arrays.fill(before, (byte) 0x11);
            CompletableFuture<IoResult> primaryWrite = new CompletableFuture<>();
            copy.write(0, 1, Unpooled.wrappedBuffer(before), true, primaryWrite::complete);
            assertEquals(IoResult.OK, primaryWrite.get(10, TimeUnit.SECONDS));

            HostPath path = new HostPath(copy);
            assertEquals(BLOCK, path.blockSize());
            assertEquals(256, path.blockCount());
            byte[] refused = new byte[BLOCK];
            Arrays.fill(refused, (byte) 0x77);
            CompletableFuture<IoResult> write = new CompletableFuture<>();
            path.write(0, 1, Unpooled.wrappedBuffer(refused), true, write::complete);
            assertEquals(IoResult.FENCED, write.get(10, TimeUnit.SECONDS));
            CompletableFuture<IoResult> unmap = new CompletableFuture<>();
            path.unmap(0, 1, unmap::complete);
            assertEquals(IoResult.FENCED, unmap.get(10, TimeUnit.SECONDS));
            CompletableFuture<IoResult> flush = new CompletableFuture<>();
            path.flush(flush::complete);
            assertEquals(IoResult.FENCED, flush.get(10, TimeUnit.SECONDS));
            ByteBuf unread = Unpooled.buffer(BLOCK);
            CompletableFuture<IoResult> read = new CompletableFuture<>();
            path.read(0, 1, unread, read::complete);
            assertEquals(IoResult.FENCED, read.get(10, TimeUnit.SECONDS));
            assertArrayEquals(before, readBlock(copy), "the copy is as the primary wrote it");

            path.serveThrough(copy); // as the primary does with its replicated store
            CompletableFuture<IoResult> served = new CompletableFuture<>();
            path.write(0, 1, Unpooled.wrappedBuffer(refused), true, served::complete);
            assertEquals(IoResult.OK, served.get(10, TimeUnit.SECONDS));
            assertArrayEquals(refused, readBlock(copy));
        }
    }

    private static byte[] readBlock(EngineVolume volume) throws Exception {
        ByteBuf dst = Unpooled.buffer(BLOCK);
        try {
            CompletableFuture<IoResult> read = new CompletableFuture<>();
            volume.read(0, 1, dst, read::complete);
            assertEquals(IoResult.OK, read.get(10, TimeUnit.SECONDS));
            byte[] block = new byte[BLOCK];
            dst.getBytes(0, block);
            return block;
        } finally {
            dst.release();
        }
    }
}
