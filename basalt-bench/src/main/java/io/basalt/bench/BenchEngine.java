package io.basalt.bench;

import io.basalt.service.engine.Engine;
import io.basalt.service.engine.EngineConfig;
import io.basalt.service.engine.drive.FileMedia;
import io.basalt.service.engine.drive.MemoryMedia;
import io.basalt.service.engine.drive.NodeMedia;
import io.basalt.service.engine.EngineVolume;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A storage engine for one benchmark: one sparse drive file and the checkpoint directory in a fresh
 * temporary directory, deleted again on close. Settings are the node's defaults (see
 * {@code io.basalt.service.config.ConfigKey}: 4 MiB segments, volatile write cache, checkpoints every
 * 256 MiB or 30 s, 10 s throttle), only the drive is smaller.
 */
final class BenchEngine implements AutoCloseable {
    static final long CHECKPOINT_BYTES = 256L << 20;
    static final long CHECKPOINT_MILLIS = 30_000;
    static final long THROTTLE_MILLIS = 10_000;
    static final double MAX_OVERSUBSCRIPTION = 10;

    private final Path directory;
    private final EngineConfig config;
    private final NodeMedia media;
    private Engine engine;

    private BenchEngine(Path directory, EngineConfig config, NodeMedia media) throws IOException {
        this.directory = directory;
        this.config = config;
        this.media = media;
        this.engine = Engine.open(config, media);
    }

    /** @param parent where the temporary directory goes; null for the system's temporary directory */
    static BenchEngine open(Path parent, long driveBytes) throws IOException {
        return open(parent, driveBytes, false);
    }

    /** @param memoryDrive the drive in memory ({@code engine.drives=memory:SIZE}) instead of a file */
    static BenchEngine open(Path parent, long driveBytes, boolean memoryDrive) throws IOException {
        Path directory = parent == null ? Files.createTempDirectory("basalt-bench-")
                : Files.createTempDirectory(Files.createDirectories(parent), "basalt-bench-");
        try {
            EngineConfig config = new EngineConfig(List.of(directory.resolve("drive0.img")), driveBytes,
                    directory.resolve("engine"), UUID.randomUUID(), EngineConfig.DEFAULT_SEGMENT_SIZE, false,
                    CHECKPOINT_BYTES, CHECKPOINT_MILLIS, THROTTLE_MILLIS, MAX_OVERSUBSCRIPTION);
            return new BenchEngine(directory, config, memoryDrive ? new MemoryMedia() : FileMedia.INSTANCE);
        } catch (IOException | RuntimeException e) {
            delete(directory);
            throw e;
        }
    }

    Engine engine() {
        return engine;
    }

    /** Closes the engine cleanly (final checkpoint) and opens it again on the same drive: a recovery. */
    Engine restart() throws IOException {
        engine.close();
        engine = Engine.open(config, media);
        return engine;
    }

    /** A new volume of {@code bytes} (rounded down to whole blocks) and its block device. */
    EngineVolume createVolume(int blockSize, long bytes, boolean compressed) {
        int id = engine.createVolume(blockSize, bytes / blockSize, compressed);
        return engine.volume(id).orElseThrow();
    }

    @Override
    public void close() throws IOException {
        try {
            engine.close();
        } finally {
            media.close();
            delete(directory);
        }
    }

    /** Deletes {@code directory} and everything in it. */
    static void delete(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("deleting " + directory + " failed", e);
        }
    }
}
