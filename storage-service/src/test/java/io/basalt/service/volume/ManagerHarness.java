package io.basalt.service.volume;

import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.Volume;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.service.config.EngineSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A {@link VolumeManager} on a temporary data directory with a small engine drive (256 MiB of 2 MiB
 * segments), reopened at will, with helpers to write and read volumes through their namespaces.
 */
final class ManagerHarness implements AutoCloseable {
    static final long MIB = 1 << 20;
    static final String PROJECT = "default";
    static final String OTHER_PROJECT = "tenant-b";
    static final List<Portal> PORTALS = List.of(new Portal("tcp", "192.0.2.1", 4420));
    static final long DRIVE_SIZE = 256 * MIB;
    static final int SEGMENT_SIZE = 2 << 20;

    final Path dataDir;
    int blockSize = 4096;
    boolean compression;
    double maxOversubscription = 10.0;
    VolumeObservers observers = VolumeObservers.NONE;
    VolumeManager manager;
    NodeStore store;

    ManagerHarness(Path dataDir) {
        this.dataDir = dataDir;
    }

    EngineSettings settings() {
        return new EngineSettings(List.of(), DRIVE_SIZE, SEGMENT_SIZE, false, maxOversubscription, 64 * MIB, 30, 2, false);
    }

    /** Opens the node's store (lock, registry, engine) as a node does; fails while another holds the data directory. */
    NodeStore openStore() throws IOException {
        EngineSettings settings = settings();
        return NodeStore.open(dataDir, settings.media(), nodeId -> settings.engineConfig(dataDir, nodeId));
    }

    VolumeManager open() throws IOException {
        store = openStore();
        try {
            manager = VolumeManager.open(store, new VolumeManager.Defaults(blockSize, compression), () -> PORTALS,
                    observers);
        } catch (IOException | RuntimeException e) {
            store.close();
            store = null;
            throw e;
        }
        return manager;
    }

    void restart() throws IOException {
        close();
        open();
    }

    @Override
    public void close() throws IOException {
        if (manager != null) {
            manager.close();
            manager = null;
        }
        if (store != null) {
            store.close();
            store = null;
        }
    }

    Path registry() {
        return dataDir.resolve(VolumeRegistry.FILE_NAME);
    }

    Volume create(String name, long sizeBytes) {
        return manager.create(PROJECT, new CreateVolumeRequest(name, sizeBytes, List.of()));
    }

    Volume cloneOf(String name, Volume source) {
        return manager.create(PROJECT, new CreateVolumeRequest(name, 0, List.of(), null, null, null, source.id()));
    }

    Volume fromSnapshot(String name, Snapshot source) {
        return manager.create(PROJECT, new CreateVolumeRequest(name, 0, List.of(), null, null, source.id(), null));
    }

    Snapshot snapshot(String name, Volume source) {
        return manager.createSnapshot(PROJECT, new CreateSnapshotRequest(name, source.id()));
    }

    BlockDevice device(Volume volume) {
        Namespace namespace = manager.subsystem().namespace(volume.nsid());
        assertNotNull(namespace, "no namespace " + volume.nsid());
        return namespace.device();
    }

    /** Writes {@code data} (whole blocks) at {@code lba} and waits for the completion. */
    void write(Volume volume, long lba, byte[] data) throws Exception {
        BlockDevice device = device(volume);
        assertEquals(0, data.length % device.blockSize());
        assertEquals(Status.SUCCESS,
                DeviceCalls.write(device, lba, data.length / device.blockSize(), Unpooled.wrappedBuffer(data), false));
    }

    byte[] read(Volume volume, long lba, int blocks) throws Exception {
        ByteBuf dst = Unpooled.buffer();
        assertEquals(Status.SUCCESS, DeviceCalls.read(device(volume), lba, blocks, dst));
        return DeviceCalls.bytes(dst);
    }

    /** {@code blocks} blocks of a pattern unique to {@code seed}. */
    byte[] data(int blocks, int seed) {
        return DeviceCalls.pattern(blocks * blockSize, seed);
    }

    /** Blocks that compress well: a short repeating text. */
    byte[] compressible(int blocks) {
        byte[] data = new byte[blocks * blockSize];
        byte[] text = "basalt compresses this line well; ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int i = 0; i < data.length; i++) {
            data[i] = text[i % text.length];
        }
        return data;
    }

    void replaceInRegistry(String from, String to) throws IOException {
        String json = Files.readString(registry());
        if (!json.contains(from)) {
            throw new AssertionError("'" + from + "' not in the registry:\n" + json);
        }
        Files.writeString(registry(), json.replace(from, to));
    }
}
