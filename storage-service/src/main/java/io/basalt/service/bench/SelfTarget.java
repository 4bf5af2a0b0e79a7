package io.basalt.service.bench;

import io.basalt.nvmetcp.target.Namespace;
import io.basalt.nvmetcp.target.NvmeTarget;
import io.basalt.nvmetcp.target.Subsystem;
import io.basalt.nvmetcp.target.TargetOptions;
import io.basalt.nvmetcp.target.TargetPort;
import io.basalt.service.volume.MemoryBlockDevice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;

import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An NVMe/TCP target in this process on 127.0.0.1, with one namespace on a memory device, so that a
 * benchmark measures the protocol path (host, TCP, target) without a node or a disk.
 */
final class SelfTarget implements AutoCloseable {
    static final String NQN = "nqn.2026-11.io.basalt:bench-self";
    static final int NSID = 1;
    /** The node's default volume block size. */
    static final int BLOCK_SIZE = 512;
    private static final int FILL_CHUNK = 1 << 20;

    private final EventLoopGroup group;
    private final NvmeTarget target;
    private final MemoryBlockDevice device;
    private final int port;

    /** @param sizeBytes namespace size, written through once so that reads return data, not holes */
    SelfTarget(long sizeBytes, String hostNqn) throws Exception {
        group = EventLoops.create(EventLoops.serverThreads());
        device = new MemoryBlockDevice(BLOCK_SIZE, sizeBytes / BLOCK_SIZE);
        fill(device, sizeBytes);
        target = new NvmeTarget(TargetOptions.defaults("BASALT-BENCH"), group);
        Subsystem subsystem = new Subsystem(NQN, "BASALT-BENCH", "Basalt benchmark");
        subsystem.addNamespace(new Namespace(NSID, UUID.randomUUID(), new byte[16], device, Set.of(hostNqn)));
        target.addSubsystem(subsystem);
        port = target.listen(new TargetPort("127.0.0.1", 0, "127.0.0.1", false)).get().getPort();
    }

    int port() {
        return port;
    }

    private static void fill(MemoryBlockDevice device, long sizeBytes) throws Exception {
        byte[] random = new byte[FILL_CHUNK];
        ThreadLocalRandom.current().nextBytes(random);
        ByteBuf chunk = Unpooled.wrappedBuffer(random);
        for (long at = 0; at < sizeBytes; at += FILL_CHUNK) {
            int blocks = (int) (Math.min(FILL_CHUNK, sizeBytes - at) / BLOCK_SIZE);
            CompletableFuture<Integer> done = new CompletableFuture<>();
            device.write(at / BLOCK_SIZE, blocks, chunk.slice(0, blocks * BLOCK_SIZE), false, done::complete);
            if (done.get() != 0) {
                throw new IllegalStateException("filling the memory device failed: status " + done.get());
            }
        }
    }

    @Override
    public void close() {
        target.close();
        EventLoops.shutdown(group);
        device.close();
    }
}
