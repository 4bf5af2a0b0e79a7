package io.basalt.service;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.HostQueue;
import io.basalt.nvmetcp.host.IoCompletion;
import io.basalt.nvmetcp.host.NvmeTransportException;
import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.NvmeTarget;
import io.basalt.nvmetcp.nvmet.Subsystem;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.basalt.nvmetcp.nvmet.TargetPort;
import io.basalt.service.dataplane.VolumeDevice;
import io.basalt.service.engine.Engine;
import io.basalt.service.engine.EngineConfig;
import io.basalt.service.engine.drive.NodeMedia;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The node's explicit warm-up ({@code node.warmup-seconds}): before the node listens for hosts, it
 * drives its own data path for a few seconds so that the JIT has compiled the hot paths by the time
 * the first host connects (a fresh JVM served about a fifth of its steady IOPS in its first 5 s;
 * docs/benchmarks.md). The load is real I/O over loopback NVMe/TCP from the node's own host client
 * to a scratch target on the node's event loops with the node's target options, through the
 * data-plane layer ({@link VolumeDevice}) into a scratch storage engine of its own on a small drive
 * of the node's kind (a file in a scratch directory of the data directory, or memory): the same
 * classes a host's I/O runs through. Nothing of the node's engine, drives, volumes, subsystem or
 * metrics is used, so the warm-up leaves no trace; everything it made is closed and deleted before
 * {@link #run} returns, whether it worked or not (and a scratch directory a crash left is deleted
 * before the next warm-up).
 */
final class NodeWarmUp {
    private static final Logger LOG = LoggerFactory.getLogger(NodeWarmUp.class);
    static final String NQN = "nqn.2026-12.io.basalt:node-warm-up";
    private static final String HOST_NQN = "nqn.2026-12.io.basalt:node-warm-up-host";
    private static final int NSID = 1;
    private static final int BLOCK_SIZE = 4096;
    /** Four times the volume, so that the engine's garbage collection has room and runs too. */
    private static final long DRIVE_BYTES = 128L << 20;
    private static final long VOLUME_BYTES = 32L << 20;
    /**
     * Blocks per command of the commands in flight on a queue, each a read and a write: mostly 4 KiB,
     * whose many cheap commands get the per-command path compiled soonest, and some 128 KiB.
     */
    private static final int[] IO_BLOCKS = {1, 1, 1, 1, 1, 1, 32, 32};
    private static final int QUEUE_DEPTH = 16;
    /** Longer than this after the load stops (commands in flight, closing) and the warm-up is abandoned. */
    private static final Duration DRAIN_LIMIT = Duration.ofSeconds(10);

    /** What a warm-up did: commands completed, and why it ended early (null when it ran its time). */
    record Outcome(long commands, String failure) {
    }

    private NodeWarmUp() {
    }

    /**
     * Runs the load for {@code duration} on {@code group}, then closes everything it opened. Never
     * throws: a warm-up that fails costs the node only its speed, so the failure is in the outcome.
     */
    static Outcome run(EventLoopGroup group, TargetOptions targetOptions, int ioQueues, Duration duration,
                       NodeMedia media, Path scratch) {
        Engine engine = null;
        NvmeTarget target = null;
        HostController host = null;
        Load load = null;
        try {
            delete(scratch);
            Files.createDirectories(scratch);
            engine = Engine.open(new EngineConfig(List.of(scratch.resolve("drive0.img")), DRIVE_BYTES,
                    scratch.resolve("engine"), UUID.randomUUID(), EngineConfig.DEFAULT_SEGMENT_SIZE, false,
                    VOLUME_BYTES, duration.toMillis(), DRAIN_LIMIT.toMillis(), 1.0), media);
            int volume = engine.createVolume(BLOCK_SIZE, VOLUME_BYTES / BLOCK_SIZE, false);
            Subsystem subsystem = new Subsystem(NQN, "BASALT-WARM-UP", "Basalt node warm-up");
            subsystem.addNamespace(new Namespace(NSID, UUID.randomUUID(), new byte[16],
                    new VolumeDevice(engine.volume(volume).orElseThrow(), false), Set.of(HOST_NQN)));
            target = new NvmeTarget(targetOptions, group);
            target.addSubsystem(subsystem);
            int port = target.listen(new TargetPort("127.0.0.1", 0, "127.0.0.1", false))
                    .get(DRAIN_LIMIT.toMillis(), TimeUnit.MILLISECONDS).getPort();
            host = HostController.connect(group, HostOptions.defaults(HOST_NQN)
                            .withIoQueues(ioQueues, HostOptions.DEFAULT_QUEUE_SIZE), "127.0.0.1", port, NQN)
                    .get(DRAIN_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
            load = new Load(host, System.nanoTime() + duration.toNanos());
            load.start();
            if (!load.idle.await(duration.plus(DRAIN_LIMIT).toMillis(), TimeUnit.MILLISECONDS)) {
                return new Outcome(load.completed(), "commands still in flight " + DRAIN_LIMIT.toSeconds()
                        + " s after the load stopped");
            }
            return new Outcome(load.completed(), load.failure.get());
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return new Outcome(load == null ? 0 : load.completed(), e.toString());
        } finally {
            closeQuietly(host, target, engine);
            if (load != null) {
                load.release();
            }
            try {
                delete(scratch);
            } catch (IOException e) {
                LOG.warn("cannot delete the warm-up's scratch directory {}: {}", scratch, e.toString());
            }
        }
    }

    private static void closeQuietly(HostController host, NvmeTarget target, Engine engine) {
        if (host != null) {
            host.close();
        }
        if (target != null) {
            target.close();
        }
        if (engine != null) {
            try {
                engine.close();
            } catch (IOException e) {
                // a scratch engine in memory: nothing to lose, and the node's own engine is not involved
            }
        }
    }

    /** Deletes {@code directory} and everything in it, if it exists. */
    private static void delete(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * The closed loop: each command is issued again from its own completion on its queue's event
     * loop until the deadline, at a random place of the volume; the first error stops it.
     */
    private static final class Load {
        private final long deadlineNanos;
        private final List<Command> commands = new ArrayList<>();
        final CountDownLatch idle;
        final AtomicReference<String> failure = new AtomicReference<>();

        Load(HostController host, long deadlineNanos) {
            this.deadlineNanos = deadlineNanos;
            for (int q = 0; q < host.ioQueueCount(); q++) {
                for (int i = 0; i < QUEUE_DEPTH; i++) {
                    int blocks = IO_BLOCKS[i % IO_BLOCKS.length];
                    commands.add(new Command(this, host.ioQueue(q), blocks, i % 2 == 0));
                }
            }
            idle = new CountDownLatch(commands.size());
        }

        void start() {
            for (Command c : commands) {
                c.eventLoop().execute(c::issue);
            }
        }

        /** Read once the commands are idle (the latch orders their event loops' counts before this). */
        long completed() {
            return commands.stream().mapToLong(c -> c.completed).sum();
        }

        void release() {
            for (Command c : commands) {
                c.buffer.release();
            }
        }
    }

    /** One command slot of the load, reused for every command it issues. */
    private static final class Command implements IoCompletion {
        private final Load load;
        private final HostQueue queue;
        private final int blocks;
        private final boolean write;
        final ByteBuf buffer;
        /** Touched by the queue's event loop only. */
        long completed;

        Command(Load load, HostQueue queue, int blocks, boolean write) {
            this.load = load;
            this.queue = queue;
            this.blocks = blocks;
            this.write = write;
            int bytes = blocks * BLOCK_SIZE;
            this.buffer = PooledByteBufAllocator.DEFAULT.directBuffer(bytes, bytes);
            byte[] data = new byte[bytes];
            ThreadLocalRandom.current().nextBytes(data);
            buffer.writeBytes(data);
        }

        EventLoop eventLoop() {
            return queue.eventLoop();
        }

        void issue() {
            long lba = ThreadLocalRandom.current().nextLong(VOLUME_BYTES / BLOCK_SIZE / blocks) * blocks;
            if (write) {
                buffer.readerIndex(0);
                queue.write(NSID, lba, blocks, buffer, false, this);
            } else {
                buffer.clear();
                queue.read(NSID, lba, blocks, buffer, this);
            }
        }

        @Override
        public void complete(int status, long result) {
            if (status != 0) {
                load.failure.compareAndSet(null, "a warm-up command failed with status 0x" + Integer.toHexString(status));
                load.idle.countDown();
                return;
            }
            completed++;
            if (load.failure.get() != null || System.nanoTime() - load.deadlineNanos >= 0) {
                load.idle.countDown();
            } else {
                issue();
            }
        }

        @Override
        public void failed(NvmeTransportException cause) {
            load.failure.compareAndSet(null, "the warm-up's connection failed: " + cause.getMessage());
            load.idle.countDown();
        }
    }
}
