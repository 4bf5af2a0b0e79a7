package io.basalt.attach.nbd;

import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.auth.DhchapPolicy;
import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.NvmeTarget;
import io.basalt.nvmetcp.nvmet.Subsystem;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.basalt.nvmetcp.nvmet.TargetPort;
import io.netty.channel.nio.NioEventLoopGroup;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A live NVMe/TCP target on 127.0.0.1 exporting one 16 MiB namespace of 512-byte blocks to {@link #HOST},
 * which can go away and come back on the same port with the same data, as a restarted storage node does.
 */
final class RestartableTarget implements AutoCloseable {
    static final String SUBNQN = "nqn.2026-11.io.basalt:nbd-test";
    static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:5e1f0000-0000-4000-8000-0000000000b1";
    static final int NSID = 1;
    static final UUID NS_UUID = UUID.fromString("b5a1b5a1-0001-4000-8000-0000000000b1");
    static final int BLOCK_SIZE = 512;
    static final int BLOCKS = 32768;
    static final long SIZE = (long) BLOCK_SIZE * BLOCKS;
    /** The target's MDTS: requests larger than this are split by the bridge. */
    static final int MAX_TRANSFER = 1 << 20;
    private static final byte[] NGUID = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};

    final NamespaceMemory device = new NamespaceMemory(BLOCK_SIZE, BLOCKS);
    private final NioEventLoopGroup group = new NioEventLoopGroup(2);
    private NvmeTarget target;
    private int port;

    RestartableTarget() {
        start(0);
    }

    int port() {
        return port;
    }

    private void start(int wantedPort) {
        target = new NvmeTarget(new TargetOptions(4, 128, 8192, 128 * 1024, MAX_TRANSFER, "NBD-TEST"), group);
        Subsystem subsystem = new Subsystem(SUBNQN, "NBD-TEST", "Basalt NBD bridge test");
        subsystem.addNamespace(new Namespace(NSID, NS_UUID, NGUID, device, Set.of(HOST)));
        target.addSubsystem(subsystem);
        port = target.listen(new TargetPort("127.0.0.1", wantedPort, "127.0.0.1", false)).join().getPort();
    }

    /** From now on, {@link #HOST} must authenticate with these secrets. */
    void requireAuthentication(DhchapCredentials credentials) {
        target.authentication(Map.of(HOST, credentials)::get, DhchapPolicy.defaults());
    }

    /** Closes the listener and every connection, as a crashed node would. */
    void stop() {
        target.close();
    }

    /** Serves the same data on the same port again. */
    void restart() {
        start(port);
    }

    NbdBridgeOptions bridgeOptions(Path socket) {
        return bridgeOptions(socket, NbdBridgeOptions.DEFAULT_RECONNECT_DEADLINE);
    }

    NbdBridgeOptions bridgeOptions(Path socket, Duration reconnectDeadline) {
        return new NbdBridgeOptions(socket, "127.0.0.1", port, SUBNQN, NamespaceSelector.byNsid(NSID), HOST,
                reconnectDeadline);
    }

    @Override
    public void close() {
        target.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
