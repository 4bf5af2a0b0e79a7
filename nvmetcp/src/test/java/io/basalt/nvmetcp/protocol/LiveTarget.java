package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.NvmeTarget;
import io.basalt.nvmetcp.nvmet.Subsystem;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.basalt.nvmetcp.nvmet.TargetPort;
import io.netty.channel.nio.NioEventLoopGroup;

import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A real {@link NvmeTarget} listening on 127.0.0.1 (an ephemeral port), with one subsystem of two
 * namespaces: namespace 1 (512-byte blocks) for {@link #HOST}, namespace 2 (4 KiB blocks) for
 * {@link #OTHER_HOST} only. {@link #STRANGER} may see nothing. Hosts connect from their own event
 * loop group, as they would from another machine.
 */
public final class LiveTarget implements AutoCloseable {
    public static final String SUBNQN = "nqn.2026-11.io.basalt:protocol-test";
    public static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:5e1f0000-0000-4000-8000-000000000001";
    public static final String OTHER_HOST = "nqn.2014-08.org.nvmexpress:uuid:5e1f0000-0000-4000-8000-000000000002";
    public static final String STRANGER = "nqn.2026-11.io.basalt:host:stranger";
    public static final UUID NS1_UUID = UUID.fromString("b5a1b5a1-0001-4000-8000-00000000a001");
    public static final UUID NS2_UUID = UUID.fromString("b5a1b5a1-0002-4000-8000-00000000a002");
    public static final byte[] NS1_NGUID = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    public static final byte[] NS2_NGUID = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};
    public static final int NS1_BLOCKS = 32768;
    public static final int NS2_BLOCKS = 2048;
    public static final String SERIAL = "BASALT-PROTOCOL";

    public final NioEventLoopGroup targetGroup = new NioEventLoopGroup(2);
    public final NioEventLoopGroup hostGroup = new NioEventLoopGroup(2);
    public final NvmeTarget target;
    public final Subsystem subsystem;
    public final TestDevice ns1;
    public final TestDevice ns2;
    public final int port;
    private final ExecutorService completer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "test-device-completer");
        t.setDaemon(true);
        return t;
    });
    private final List<HostController> controllers = new CopyOnWriteArrayList<>();

    private LiveTarget(TargetOptions options) {
        target = new NvmeTarget(options, targetGroup);
        subsystem = new Subsystem(SUBNQN, SERIAL, "Basalt protocol test");
        ns1 = new TestDevice(512, NS1_BLOCKS, completer);
        ns2 = new TestDevice(4096, NS2_BLOCKS, completer);
        subsystem.addNamespace(new Namespace(1, NS1_UUID, NS1_NGUID, ns1, Set.of(HOST)));
        subsystem.addNamespace(new Namespace(2, NS2_UUID, NS2_NGUID, ns2, Set.of(OTHER_HOST)));
        target.addSubsystem(subsystem);
        port = IoResult.await(target.listen(new TargetPort("127.0.0.1", 0, "127.0.0.1", false))).getPort();
    }

    public static LiveTarget start() {
        return start(TargetOptions.defaults(SERIAL));
    }

    public static LiveTarget start(TargetOptions options) {
        return new LiveTarget(options);
    }

    /** {@link #HOST} with two I/O queues of 64 entries. */
    public static HostOptions hostOptions() {
        return HostOptions.defaults(HOST).withIoQueues(2, 64);
    }

    public CompletableFuture<HostController> connectAsync(HostOptions options, String subnqn) {
        return HostController.connect(hostGroup, options, "127.0.0.1", port, subnqn).thenApply(c -> {
            controllers.add(c);
            return c;
        });
    }

    public HostController connect(HostOptions options) {
        return IoResult.await(connectAsync(options, SUBNQN));
    }

    /** Waits (bounded) for a condition on the target's side, which hosts only see indirectly. */
    public static void eventually(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(IoResult.TIMEOUT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + IoResult.TIMEOUT_SECONDS + " s: " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    @Override
    public void close() {
        controllers.forEach(HostController::close);
        target.close();
        hostGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        targetGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        completer.shutdownNow();
    }
}
