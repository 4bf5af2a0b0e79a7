package io.basalt.attach.nbd;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.NvmeTransportException;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * The exported namespace as reached through one NVMe/TCP controller, which it replaces when the
 * connection is lost. Requests wait here while there is no controller or no free command slot, and come
 * back here when their command failed with the connection; they fail only once they have waited
 * longer than the reconnect deadline. Everything runs on one event loop, which the controller's queues
 * share, so the state needs no locks.
 */
final class NamespaceSession {
    private static final Logger log = LoggerFactory.getLogger(NamespaceSession.class);
    private static final long FIRST_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 2000;
    private static final int MAX_CONNECT_MILLIS = 5000;
    private static final int QUEUE_SIZE = 128;

    private final EventLoopGroup group;
    private final EventLoop loop;
    private final NbdBridgeOptions options;
    private final HostOptions hostOptions;
    private final ArrayDeque<BridgedRequest> waiting = new ArrayDeque<>();
    private volatile ExportGeometry geometry;
    private HostController controller;
    private int connection;
    private int nsid;
    private int capacity;
    private int inFlight;
    private long backoffMillis = FIRST_BACKOFF_MILLIS;
    private ScheduledFuture<?> reconnect;
    private boolean closing;

    private NamespaceSession(EventLoopGroup group, NbdBridgeOptions options) {
        this.group = group;
        this.loop = group.next();
        this.options = options;
        this.hostOptions = HostOptions.defaults(options.hostNqn()).withIoQueues(1, QUEUE_SIZE)
                .withConnectTimeout((int) Math.min(MAX_CONNECT_MILLIS, options.reconnectDeadline().toMillis()))
                .withDhchap(options.dhchap());
    }

    /**
     * Connects for the first time; fails, leaving nothing open, if the namespace cannot be reached.
     * {@code group} must have a single event loop: the one the session's state is confined to.
     */
    static CompletableFuture<NamespaceSession> open(EventLoopGroup group, NbdBridgeOptions options) {
        NamespaceSession session = new NamespaceSession(group, options);
        return session.connect().thenApplyAsync(c -> {
            session.established(c);
            return session;
        }, session.loop);
    }

    ExportGeometry geometry() {
        return geometry;
    }

    private CompletableFuture<HostController> connect() {
        return HostController.connect(group, hostOptions, options.targetHost(), options.targetPort(),
                        options.subsystemNqn())
                .thenCompose(c -> options.namespace().resolve(c)
                        .thenCompose(id -> c.identifyNamespace(id).thenApply(ns -> {
                            int blockSize = ns.blockSize();
                            ExportGeometry known = geometry;
                            if (known != null && known.blockSize() != blockSize) {
                                throw new CompletionException(new NvmeTransportException(options.namespace()
                                        + " changed its block size from " + known.blockSize() + " to " + blockSize));
                            }
                            geometry = ExportGeometry.of(ns, c.info());
                            nsid = id;
                            return c;
                        }))
                        .whenComplete((v, e) -> {
                            if (e != null) {
                                c.closeAsync();
                            }
                        }));
    }

    private void established(HostController c) {
        if (closing) {
            c.closeAsync();
            return;
        }
        controller = c;
        connection++;
        capacity = 0;
        for (int i = 0; i < c.ioQueueCount(); i++) {
            capacity += c.ioQueue(i).depth();
        }
        backoffMillis = FIRST_BACKOFF_MILLIS;
        int current = connection;
        c.closed().whenCompleteAsync((v, e) -> lost(current, "the connection closed"), loop);
        log.info("Connected to {} of {} at {}:{}", options.namespace(), options.subsystemNqn(), options.targetHost(),
                options.targetPort());
        drain();
    }

    /** Queues a request (or its next piece) for the controller. */
    void execute(BridgedRequest request) {
        if (closing) {
            request.abandon(NbdProtocol.ESHUTDOWN);
            return;
        }
        if (controller == null) {
            request.startWaiting(System.nanoTime());
        }
        waiting.addLast(request);
        drain();
    }

    /** A piece completed (with whatever status): its command slot can take a waiting request. */
    void pieceFinished() {
        inFlight--;
        drain();
    }

    /** A piece failed with the connection: it goes out again, first, once there is a controller. */
    void pieceFailed(BridgedRequest request, NvmeTransportException cause) {
        inFlight--;
        if (closing) {
            request.abandon(NbdProtocol.ESHUTDOWN);
            return;
        }
        request.startWaiting(System.nanoTime());
        waiting.addFirst(request);
        lost(request.connection(), cause.getMessage());
        drain(); // a late failure from an earlier connection can go out on the current one at once
    }

    private void drain() {
        BridgedRequest request;
        while (controller != null && inFlight < capacity && (request = waiting.poll()) != null) {
            inFlight++;
            try {
                request.issueNext(controller, connection, nsid, geometry);
            } catch (IllegalArgumentException e) {
                // the controller no longer shows the namespace as active: no connection would help
                inFlight--;
                log.warn("Cannot issue a request to {}: {}", options.namespace(), e.getMessage());
                request.abandon(NbdProtocol.EIO);
            }
        }
    }

    /** Drops connection {@code lostConnection}, if it is still the current one, and starts reconnecting. */
    private void lost(int lostConnection, String why) {
        HostController c = controller;
        if (c == null || lostConnection != connection || closing) {
            return;
        }
        log.warn("Lost {} of {}: {}; reconnecting for up to {} s", options.namespace(), options.subsystemNqn(), why,
                options.reconnectDeadline().toSeconds());
        controller = null;
        long now = System.nanoTime();
        waiting.forEach(r -> r.startWaiting(now));
        c.closeAsync();
        scheduleReconnect();
    }

    private void scheduleReconnect() {
        reconnect = loop.schedule(this::reconnect, backoffMillis, TimeUnit.MILLISECONDS);
        backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
    }

    private void reconnect() {
        if (closing) {
            return;
        }
        connect().whenCompleteAsync((c, e) -> {
            if (e == null) {
                established(c);
                return;
            }
            log.debug("Reconnecting to {}: {}", options.subsystemNqn(), e.toString());
            failExpired();
            if (!closing) {
                scheduleReconnect();
            }
        }, loop);
    }

    private void failExpired() {
        long deadline = options.reconnectDeadline().toNanos();
        long now = System.nanoTime();
        for (Iterator<BridgedRequest> it = waiting.iterator(); it.hasNext(); ) {
            BridgedRequest r = it.next();
            if (now - r.waitingSinceNanos() > deadline) {
                it.remove();
                r.abandon(NbdProtocol.EIO);
            }
        }
    }

    /** Fails whatever waits, stops reconnecting and disconnects from the target. */
    CompletableFuture<Void> closeAsync() {
        CompletableFuture<HostController> closed = new CompletableFuture<>();
        loop.execute(() -> {
            closing = true;
            if (reconnect != null) {
                reconnect.cancel(false);
            }
            BridgedRequest r;
            while ((r = waiting.poll()) != null) {
                r.abandon(NbdProtocol.ESHUTDOWN);
            }
            closed.complete(controller);
            controller = null;
        });
        return closed.thenCompose(c -> c == null ? CompletableFuture.completedFuture(null) : c.closeAsync());
    }
}
