package io.basalt.bench;

import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.MemoryBlockDevice;
import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.NvmeTarget;
import io.basalt.nvmetcp.nvmet.Subsystem;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.basalt.nvmetcp.nvmet.TargetPort;
import io.basalt.service.dataplane.VolumeDevice;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;

import java.nio.file.Path;
import java.util.Set;
import java.util.UUID;

/**
 * An NVMe/TCP target in this process on 127.0.0.1 with one namespace, so that a benchmark measures
 * the protocol path (host, TCP, target) without a node: on a memory device, or on a volume of a
 * storage engine whose drive is a sparse file in a temporary directory (the engine's path, with the
 * page cache as its disk).
 */
final class SelfTarget implements AutoCloseable {
    static final String NQN = "nqn.2026-11.io.basalt:bench-self";
    static final int NSID = 1;
    static final String SERIAL = "BASALT-BENCH";
    /** The node's default volume block size. */
    static final int BLOCK_SIZE = 4096;
    /** Size of the engine's (sparse) drive file. */
    static final long ENGINE_DRIVE_BYTES = 8L << 30;
    private static final int FILL_IO_SIZE = 128 * 1024;
    private static final int FILL_DEPTH = 16;

    private final EventLoopGroup group;
    private final BlockDevice device;
    private final String hostNqn;
    private final BenchEngine engine;
    private final Served served;

    /** A target on this device and these event loops, listening on 127.0.0.1 at {@code port}. */
    record Served(NvmeTarget target, int port) implements AutoCloseable {
        @Override
        public void close() {
            target.close();
        }
    }

    /**
     * @param sizeBytes namespace size, written through once (random data) so that reads return data, not holes
     * @param onEngine  the namespace is an engine volume rather than memory
     * @param engineDir where the engine's temporary directory goes; null for the system's
     * @param memoryDrive the engine's drive is in memory rather than a file
     */
    SelfTarget(long sizeBytes, String hostNqn, boolean onEngine, Path engineDir, boolean memoryDrive) throws Exception {
        this(sizeBytes, hostNqn, onEngine, engineDir, memoryDrive, ENGINE_DRIVE_BYTES);
    }

    /** @param driveBytes size of the engine's drive */
    SelfTarget(long sizeBytes, String hostNqn, boolean onEngine, Path engineDir, boolean memoryDrive, long driveBytes)
            throws Exception {
        this.hostNqn = hostNqn;
        if (onEngine) {
            engine = BenchEngine.open(engineDir, driveBytes, memoryDrive);
            device = new VolumeDevice(engine.createVolume(BLOCK_SIZE, sizeBytes, false), false);
        } else {
            engine = null;
            device = new MemoryBlockDevice(BLOCK_SIZE, sizeBytes / BLOCK_SIZE);
        }
        group = EventLoops.create(EventLoops.serverThreads());
        try {
            fill(device, sizeBytes);
            served = serve(TargetOptions.defaults(SERIAL));
        } catch (Exception | Error e) {
            EventLoops.shutdown(group);
            closeEngine();
            throw e;
        }
    }

    int port() {
        return served.port();
    }

    /**
     * Another target with {@code options} on the same namespace and event loops (subsystem {@link #NQN},
     * namespace {@link #NSID}), on a port of its own: to compare target settings on one device. The
     * caller closes it, before this.
     */
    Served serve(TargetOptions options) throws Exception {
        NvmeTarget target = new NvmeTarget(options, group);
        try {
            Subsystem subsystem = new Subsystem(NQN, SERIAL, "Basalt benchmark");
            subsystem.addNamespace(new Namespace(NSID, UUID.randomUUID(), new byte[16], device, Set.of(hostNqn)));
            target.addSubsystem(subsystem);
            return new Served(target, target.listen(new TargetPort("127.0.0.1", 0, "127.0.0.1", false)).get().getPort());
        } catch (Exception | Error e) {
            target.close();
            throw e;
        }
    }

    private static void fill(BlockDevice device, long sizeBytes) throws Exception {
        ByteBuf data = DataKind.RANDOM.pool(0);
        try {
            DeviceLoad.Result r = DeviceLoad.write(device, data, FILL_IO_SIZE, FILL_DEPTH, Skew.SEQUENTIAL, sizeBytes,
                    sizeBytes);
            if (r.errors() > 0) {
                throw new IllegalStateException("filling the namespace failed: " + r.errorText());
            }
        } finally {
            data.release();
        }
    }

    @Override
    public void close() throws Exception {
        served.close();
        EventLoops.shutdown(group);
        closeEngine();
    }

    private void closeEngine() throws Exception {
        if (engine != null) {
            engine.close();
        }
    }
}
