package io.basalt.service.engine;

import io.basalt.service.engine.drive.MemoryMedia;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
