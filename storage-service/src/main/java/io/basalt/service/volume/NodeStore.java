package io.basalt.service.volume;

import io.basalt.service.engine.Engine;
import io.basalt.service.engine.EngineConfig;
import io.basalt.service.engine.drive.NodeMedia;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.Function;

/**
 * What a node keeps: its data directory (locked against a second node), the registry naming its
 * volumes, and the storage engine on its drives. The node opens it first and closes it last; the
 * volume manager works on it.
 */
public final class NodeStore implements AutoCloseable {
    private final DataDirLock lock;
    private final VolumeRegistry registry;
    private final RegistryContent content;
    private final Engine engine;

    private NodeStore(DataDirLock lock, VolumeRegistry registry, RegistryContent content, Engine engine) {
        this.lock = lock;
        this.registry = registry;
        this.content = content;
        this.engine = engine;
    }

    /**
     * Locks the data directory (creating it and the node's identity on first use) and opens the engine
     * on the drives {@code engineConfig} describes for the node's ID, on {@code media}.
     */
    public static NodeStore open(Path dataDir, NodeMedia media, Function<UUID, EngineConfig> engineConfig)
            throws IOException {
        Files.createDirectories(dataDir);
        DataDirLock lock = DataDirLock.acquire(dataDir);
        try {
            VolumeRegistry registry = VolumeRegistry.in(dataDir);
            RegistryContent content = registry.loadOrCreate();
            return new NodeStore(lock, registry, content, Engine.open(engineConfig.apply(content.nodeId()), media));
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    public Engine engine() {
        return engine;
    }

    /** The node's identity, made with its data directory. */
    public UUID nodeId() {
        return content.nodeId();
    }

    VolumeRegistry registry() {
        return registry;
    }

    /** The registry as it was when the node started. */
    RegistryContent content() {
        return content;
    }

    /** Closes the engine (writing a final checkpoint), then releases the data directory. */
    @Override
    public void close() throws IOException {
        try {
            engine.close();
        } finally {
            lock.close();
        }
    }
}
