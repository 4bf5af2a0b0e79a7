package io.basalt.service.replication;

import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.nvmet.NvmeTarget;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.basalt.nvmetcp.nvmet.TargetPort;
import io.basalt.service.dataplane.VolumeDevice;
import io.basalt.service.engine.Engine;
import io.basalt.service.engine.EngineConfig;
import io.basalt.service.engine.EngineVolume;
import io.basalt.service.engine.IoResult;
import io.basalt.service.engine.drive.FileMedia;
import io.basalt.service.engine.drive.NodeMedia;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One node of a replicated volume in this JVM: a real engine on drive files holding its copy and, for
 * a secondary, a real NVMe/TCP target serving that copy in the volume's replica subsystem behind a
 * {@link GenerationFence}, to the primary's host NQN only.
 */
final class ReplicaNode implements AutoCloseable {
    static final int BLOCK = 4096;
    static final String PRIMARY_HOST = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000000a";
    static final String REPLICA_NQN = "nqn.2024-01.io.basalt:replica:v1";

    final String id;
    private final EngineConfig config;
    private final NodeMedia media;
    Engine engine;
    EngineVolume volume;
    private final EventLoopGroup group;
    private NvmeTarget target;
    GenerationFence fence;
    private int port;

    ReplicaNode(String id, Path dir, long blocks, EventLoopGroup group) throws IOException {
        this(id, dir, blocks, group, FileMedia.INSTANCE);
    }

    /** A node whose engine runs on {@code media}: drives that can lose power, for instance. */
    ReplicaNode(String id, Path dir, long blocks, EventLoopGroup group, NodeMedia media) throws IOException {
        this.id = id;
        this.group = group;
        this.media = media;
        this.config = new EngineConfig(List.of(dir.resolve("drive")), 128L << 20, dir.resolve("meta"),
                UUID.randomUUID(), 2 << 20, false, 8L << 20, 600_000, 500, 4.0);
        this.engine = Engine.open(config, media);
        this.volume = engine.volume(engine.createVolume(BLOCK, blocks, false)).orElseThrow();
    }

    /** Closes the engine (one that stopped after a drive error writes nothing more) and opens it again. */
    void restartEngine() throws IOException {
        int map = volume.id();
        engine.close();
        engine = Engine.open(config, media);
        volume = engine.volume(map).orElseThrow();
    }

    /** Serves the copy to the primary, fenced at {@code generation}. */
    void serve(long generation) throws Exception {
        ReplicaSubsystem replica = ReplicaSubsystem.of(REPLICA_NQN, "replica-" + id, new VolumeDevice(volume, false),
                generation, Set.of(PRIMARY_HOST), UUID.nameUUIDFromBytes("v1".getBytes()), new byte[16]);
        fence = replica.fence();
        target = new NvmeTarget(TargetOptions.defaults("replica-" + id), group);
        target.addSubsystem(replica.subsystem());
        port = target.listen(new TargetPort("127.0.0.1", 0, "127.0.0.1", false)).get(10, TimeUnit.SECONDS).getPort();
    }

    /** The node stops serving, as when its process dies: every connection to it closes. */
    void stopServing() {
        target.close();
        target = null;
    }

    int port() {
        return port;
    }

    /** The primary's connection to this copy. */
    RemoteReplica connect(long generation) throws Exception {
        return RemoteReplica.connect(id, group, HostOptions.defaults(PRIMARY_HOST).withIoQueues(2, 64), "127.0.0.1",
                port, REPLICA_NQN, generation).get(10, TimeUnit.SECONDS);
    }

    /**
     * The primary's connection to this copy through {@code viaPort} on loopback (a proxy), without Keep
     * Alive: only the replication timeout ends a secondary that stops answering.
     */
    RemoteReplica connect(long generation, int viaPort) throws Exception {
        HostOptions options = HostOptions.defaults(PRIMARY_HOST).withIoQueues(2, 64).withKeepAliveTimeout(0);
        return RemoteReplica.connect(id, group, options, "127.0.0.1", viaPort, REPLICA_NQN, generation)
                .get(10, TimeUnit.SECONDS);
    }

    /** This node's copy, read from its own engine. */
    byte[] image() throws Exception {
        long blocks = volume.blockCount();
        byte[] image = new byte[(int) (blocks * BLOCK)];
        ByteBuf buf = Unpooled.buffer(256 * BLOCK);
        for (long lba = 0; lba < blocks; lba += 256) {
            buf.clear();
            CompletableFuture<IoResult> done = new CompletableFuture<>();
            volume.read(lba, 256, buf, done::complete);
            assertEquals(IoResult.OK, done.get(10, TimeUnit.SECONDS));
            buf.getBytes(0, image, (int) (lba * BLOCK), 256 * BLOCK);
        }
        return image;
    }

    @Override
    public void close() throws IOException {
        if (target != null) {
            target.close();
        }
        engine.close();
    }
}
