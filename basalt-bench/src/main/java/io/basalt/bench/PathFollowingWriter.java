package io.basalt.bench;

import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.IoCompletion;
import io.basalt.nvmetcp.host.NamespaceInfo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A host that keeps writing 4 KiB at queue depth 1 to one volume and follows it to whichever node
 * serves it: when a write fails or gets no answer, it drops the connection and asks the nodes' API, one
 * after the other, for the volume's portals and NQN, and tries the first portal, then after each
 * further failure the next, until a write succeeds. The API names the primary's portal first (today
 * the only one); with ANA multipath (the same NQN on every copy's portal) the same loop moves on from
 * a path that is not optimized. Each stretch without an acknowledged write that ends in one is an
 * {@link Outage}.
 *
 * <p>The writes run on a platform thread of their own, which waits for each completion (bounded); the
 * completion itself only records the status on the host's event loop, without allocating.
 */
final class PathFollowingWriter implements AutoCloseable, IoCompletion {
    private static final int IO_BYTES = 4096;
    private static final long SPAN_BYTES = 16L << 20;
    private static final long WRITE_TIMEOUT_MILLIS = 5_000;
    private static final int CONNECT_TIMEOUT_MILLIS = 2_000;
    private static final long RETRY_MILLIS = 20;
    /** A question to a node that is down is refused at once; a live node answers a read in milliseconds. */
    private static final Duration API_TIMEOUT = Duration.ofSeconds(2);
    private static final long STOP_TIMEOUT_MILLIS = 30_000;

    /**
     * From the last write acknowledged before a failure to the first acknowledged after it, when the
     * connection that took that write was made, and the paths before and after.
     */
    record Outage(long lastAcknowledged, long connected, long firstAcknowledged, String pathBefore, String pathAfter) {
    }

    /** The connection writes go through, and what they need of its namespace. */
    private record Path(HostController controller, int nsid, int blocksPerWrite, String label, long connected) {
    }

    private final String volumeId;
    private final List<VolumeApiClient> apis;
    private final EventLoopGroup group = EventLoops.createForHost(1);
    private final ByteBuf data = Unpooled.directBuffer(IO_BYTES);
    private final Semaphore completed = new Semaphore(0);
    private final List<Outage> outages = new ArrayList<>();
    private final Thread thread;
    private volatile int status;
    private volatile boolean stopping;
    private volatile long acknowledged;
    private volatile String lastError = "none";
    private int nextApi;
    /** Failures since the last acknowledged write: which of the volume's portals to try next. */
    private int failuresInARow;

    private PathFollowingWriter(String volumeId, List<VolumeApiClient> apis) {
        this.volumeId = volumeId;
        this.apis = List.copyOf(apis);
        byte[] random = new byte[IO_BYTES];
        ThreadLocalRandom.current().nextBytes(random);
        data.writeBytes(random);
        thread = Thread.ofPlatform().name("failover-writer").unstarted(this::writeUntilStopped);
    }

    static PathFollowingWriter start(String volumeId, List<FailoverBench.ClusterNode> nodes, String token) {
        PathFollowingWriter writer = new PathFollowingWriter(volumeId, nodes.stream()
                .map(n -> n.api(token, API_TIMEOUT)).toList());
        writer.thread.start();
        return writer;
    }

    /** Writes acknowledged so far. */
    long acknowledged() {
        return acknowledged;
    }

    String lastError() {
        return lastError;
    }

    /** Waits, at most {@code timeoutNanos}, for an outage that ended after {@code nanos}. */
    Outage awaitOutageEndingAfter(long nanos, long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (outages) {
            while (true) {
                for (Outage o : outages) {
                    if (o.firstAcknowledged() > nanos) {
                        return o;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("no write acknowledged within "
                            + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s of the kill; last error: " + lastError);
                }
                outages.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    @Override
    public void complete(int status, long result) {
        this.status = status;
        completed.release();
    }

    private void writeUntilStopped() {
        Path path = null;
        String lastPath = null;
        long lastAcknowledged = -1;
        boolean failed = false;
        long offset = 0;
        try {
            while (!stopping) {
                if (path == null) {
                    path = connect();
                    if (path == null) {
                        Thread.sleep(RETRY_MILLIS);
                        continue;
                    }
                }
                data.readerIndex(0);
                path.controller().write(path.nsid(), offset / (IO_BYTES / path.blocksPerWrite()),
                        path.blocksPerWrite(), data, false, this);
                boolean answered = completed.tryAcquire(WRITE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
                if (answered && status == 0) {
                    long now = System.nanoTime();
                    if (failed && lastAcknowledged >= 0) {
                        synchronized (outages) {
                            outages.add(new Outage(lastAcknowledged, path.connected(), now, lastPath, path.label()));
                            outages.notifyAll();
                        }
                    }
                    failed = false;
                    lastAcknowledged = now;
                    lastPath = path.label();
                    acknowledged++;
                    failuresInARow = 0;
                    offset = (offset + IO_BYTES) % SPAN_BYTES;
                } else {
                    failed = true;
                    lastError = (answered ? "write failed with status 0x" + Integer.toHexString(status)
                            : "no answer to a write within " + WRITE_TIMEOUT_MILLIS + " ms") + " at " + path.label();
                    disconnect(path);
                    path = null;
                    failuresInARow++;
                    Thread.sleep(RETRY_MILLIS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (path != null) {
                disconnect(path);
            }
        }
    }

    /** The volume's next path from the first node whose API answers, connected; null if none works now. */
    private Path connect() throws InterruptedException {
        for (int tried = 0; tried < apis.size(); tried++) {
            VolumeApiClient api = apis.get(nextApi % apis.size());
            Volume volume;
            try {
                volume = api.volume(volumeId);
            } catch (Exception e) {
                lastError = "the API at " + api.base() + ": " + BenchCommand.describe(e);
                nextApi++;
                continue;
            }
            List<Portal> portals = volume.portals().stream().filter(p -> "tcp".equalsIgnoreCase(p.transport())).toList();
            if (volume.nqn() == null || volume.nsid() == 0 || portals.isEmpty()) {
                lastError = "the volume is not served yet (" + api.base() + ")";
                return null;
            }
            Portal portal = portals.get(Math.floorMod(failuresInARow, portals.size()));
            String label = portal.address() + ":" + portal.port();
            HostOptions options = HostOptions.defaults(BenchOptions.DEFAULT_HOST_NQN).withIoQueues(1, 2)
                    .withConnectTimeout(CONNECT_TIMEOUT_MILLIS);
            HostController controller = null;
            try {
                controller = HostController.connect(group, options, portal.address(), portal.port(), volume.nqn())
                        .get(CONNECT_TIMEOUT_MILLIS * 2L, TimeUnit.MILLISECONDS);
                NamespaceInfo ns = controller.identifyNamespace(volume.nsid())
                        .get(CONNECT_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
                if (!ns.isActive() || IO_BYTES % ns.blockSize() != 0) {
                    throw new IllegalStateException("namespace " + volume.nsid() + " is not active there");
                }
                return new Path(controller, volume.nsid(), IO_BYTES / ns.blockSize(), label, System.nanoTime());
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                lastError = "connecting to " + volume.nqn() + " at " + label + ": " + BenchCommand.describe(e);
                if (controller != null) {
                    controller.close();
                }
                failuresInARow++;
                return null;
            }
        }
        return null;
    }

    /** Closes the connection; a write still outstanding fails with it, and its late completion is dropped. */
    private void disconnect(Path path) {
        path.controller().close();
        completed.drainPermits();
    }

    @Override
    public void close() throws InterruptedException {
        stopping = true;
        thread.join(STOP_TIMEOUT_MILLIS);
        EventLoops.shutdown(group);
        data.release();
    }
}
