package io.basalt.service.engine;

import io.basalt.service.engine.drive.MemoryMedia;
import io.basalt.service.engine.log.LogOp;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The whole engine on memory drives: what {@code engine.drives=memory:SIZE} runs. */
class MemoryDriveEngineTest {

    private final MemoryMedia media = new MemoryMedia();

    /** Frees the memory drives' memory. */
    @AfterEach
    void freeDrives() {
        media.close();
    }

    @Test
    void volumesLiveInMemoryAcrossAnEngineRestartWithinTheProcessAndReadsNeverTakeThePool() throws Exception {
        EngineConfig config = new EngineConfig(List.of(Path.of("memory-drive-0")), 256L << 20, Path.of("engine"),
                UUID.randomUUID(), EngineHarness.SEGMENT, false, 64L << 20, 600_000, 2_000, 4.0);
        long[] model = new long[1024];
        int id;
        try (Engine engine = Engine.open(config, media)) {
            id = engine.createVolume(EngineHarness.BLOCK, model.length, true);
            EngineVolume volume = engine.volume(id).orElseThrow();
            for (int lba = 0; lba < model.length; lba += 64) {
                long[] tags = new long[64];
                for (int i = 0; i < 64; i++) {
                    tags[i] = model[lba + i] = 1 + lba + i;
                }
                assertEquals(IoResult.OK, EngineHarness.write(volume, lba, tags));
            }
            assertEquals(IoResult.OK, EngineHarness.unmap(volume, 100, 28));
            java.util.Arrays.fill(model, 100, 128, 0);
            EngineHarness.verify(volume, model, "on memory drives");
            assertEquals(0, engine.counters().pooledReads(), "memory answers every read on the caller's thread");
        }
        try (Engine engine = Engine.open(config, media)) {
            EngineHarness.verify(engine.volume(id).orElseThrow(), model, "after the engine was closed and opened again");
        }
    }

    /**
     * The target's completions serve one command at a time and keep the engine's write operation, which
     * the engine refills for each write rather than making one (no garbage per write on the event loop).
     * Each write here lands where it was meant to, through the one refilled operation. Without the
     * reuse in {@code EngineVolume.write} the completion never gets an operation to keep (checked: the
     * test then fails at its first assertion).
     */
    @Test
    void aCompletionKeepingItsWriteOperationHasItRefilledForEveryWrite() throws Exception {
        EngineConfig config = new EngineConfig(List.of(Path.of("memory-drive-0")), 64L << 20, Path.of("engine"),
                UUID.randomUUID(), EngineHarness.SEGMENT, false, 64L << 20, 600_000, 2_000, 4.0);
        try (Engine engine = Engine.open(config, media)) {
            EngineVolume volume = engine.volume(engine.createVolume(EngineHarness.BLOCK, 256, false)).orElseThrow();
            long[] model = new long[256];
            KeepingCompletion completion = new KeepingCompletion();
            LogOp.HostWrite first = null;
            for (int n = 0; n < 300; n++) {
                int lba = (n * 37) % model.length;
                int blocks = 1 + n % 3;
                if (lba + blocks > model.length) {
                    continue;
                }
                var data = Unpooled.buffer(blocks * EngineHarness.BLOCK);
                for (int i = 0; i < blocks; i++) {
                    model[lba + i] = 1 + n * 4L + i;
                    data.writeBytes(EngineHarness.content(model[lba + i], lba + i));
                }
                completion.result = new CompletableFuture<>();
                volume.write(lba, blocks, data, false, completion);
                assertEquals(IoResult.OK, EngineHarness.await(completion.result));
                assertNotNull(completion.keptWrite(), "the engine keeps its operation with the completion");
                if (first == null) {
                    first = completion.keptWrite();
                }
                assertSame(first, completion.keptWrite(), "write " + n + " refilled the kept operation");
            }
            EngineHarness.verify(volume, model, "after writes through one refilled operation");
        }
    }

    /** A completion serving one write at a time, as the target's per-slot completion does. */
    private static final class KeepingCompletion implements IoCompletion {
        CompletableFuture<IoResult> result;
        private LogOp.HostWrite kept;

        @Override
        public void done(IoResult status) {
            result.complete(status);
        }

        @Override
        public LogOp.HostWrite keptWrite() {
            return kept;
        }

        @Override
        public void keepWrite(LogOp.HostWrite write) {
            kept = write;
        }
    }
}
