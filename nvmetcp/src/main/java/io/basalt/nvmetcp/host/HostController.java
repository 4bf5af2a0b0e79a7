package io.basalt.nvmetcp.host;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvme.Nqn;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * A host's view of one NVMe over Fabrics controller: its admin queue, its I/O queues, the Keep Alive
 * timer, and the admin commands a host needs. Admin commands return futures; I/O takes an
 * {@link IoCompletion} and goes round robin over the I/O queues, or to a queue the caller picks
 * through {@link #ioQueue(int)}.
 */
public final class HostController implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostController.class);
    /** CC: enable; NVM command set, 4 KiB pages, 64-byte submission and 16-byte completion entries. */
    static final int CC_ENABLE = 0x00460001;
    private static final int CC_SHUTDOWN_NORMAL = 1 << 14;
    private static final int CSTS_READY = 1;
    private static final int CSTS_FATAL = 1 << 1;
    private static final long CAP_TIMEOUT_UNIT_MILLIS = 500;
    private static final int READY_POLL_MILLIS = 10;
    private static final int CLOSE_TIMEOUT_MILLIS = 2000;
    /** Async event configuration bits 31:8 enable the notices OAES advertises, bit for bit. */
    private static final int AEC_NOTICES = 0xFFFFFF00;
    private static final int NSID_ALL = 0xFFFFFFFF;
    private static final int DISCOVERY_LOG_ATTEMPTS = 3;

    private final EventLoopGroup group;
    private final HostOptions options;
    private final String address;
    private final int port;
    private final String subnqn;
    private final NamespaceFormats formats = new NamespaceFormats();
    private final ByteBuf keepAliveSqe = Commands.keepAlive();
    private final IoCompletion keepAliveDone = new IoCompletion() {
        @Override
        public void complete(int status, long result) {
            if (status != 0) {
                log.warn("Keep Alive to controller {} of {} failed: {}", cntlid, subnqn,
                        Status.describe(status));
            }
        }

        @Override
        public void failed(NvmeTransportException cause) {
            // the admin queue's closure is what matters, and closed() reports it
        }
    };
    private volatile HostQueue admin;
    private volatile HostQueue[] ioQueues = new HostQueue[0];
    private volatile int cntlid;
    private volatile long capabilities;
    private volatile int version;
    private volatile ControllerInfo info;
    private volatile ScheduledFuture<?> keepAlive;
    /** Round robin position; racy increments only skew the rotation. */
    private int nextQueue;

    private HostController(EventLoopGroup group, HostOptions options, String address, int port, String subnqn) {
        this.group = group;
        this.options = options;
        this.address = address;
        this.port = port;
        this.subnqn = Nqn.requireValid(subnqn);
    }

    /**
     * Connects to subsystem {@code subnqn}: admin queue (initialize, Connect), properties, enable and
     * wait for ready, Identify Controller, asynchronous event configuration, Number of Queues, the
     * active namespaces, then every I/O queue; then starts Keep Alive. Bounded by
     * {@link HostOptions#connectTimeoutMillis()}; on failure nothing stays open.
     */
    public static CompletableFuture<HostController> connect(EventLoopGroup group, HostOptions options, String address,
                                                            int port, String subnqn) {
        HostController c = new HostController(group, options, address, port, subnqn);
        return c.bounded(c::setUp, "connecting to " + subnqn + " at " + address + ":" + port,
                options.connectTimeoutMillis(), true).thenApply(v -> c);
    }

    /** Reads the discovery log of the discovery controller at {@code address:port}, then disconnects. */
    public static CompletableFuture<List<DiscoveryLogEntry>> discover(EventLoopGroup group, HostOptions options,
                                                                      String address, int port) {
        return connect(group, options.withIoQueues(0, options.ioQueueSize()), address, port, Nqn.DISCOVERY)
                .thenCompose(c -> c.discoveryLog(DISCOVERY_LOG_ATTEMPTS).whenComplete((entries, e) -> c.closeAsync()));
    }

    private boolean isDiscovery() {
        return Nqn.DISCOVERY.equals(subnqn);
    }

    private CompletableFuture<Void> setUp() {
        int kato = isDiscovery() ? 0 : options.keepAliveTimeoutMillis();
        return HostQueue.open(group, options, address, port, 0, HostQueue.ADMIN_QUEUE_SIZE,
                        HostQueue.ADMIN_IN_CAPSULE_DATA, formats)
                .thenCompose(q -> {
                    admin = q;
                    q.closed().thenRun(this::adminClosed);
                    return q.connect(subnqn, Commands.ANY_CONTROLLER, kato);
                })
                .thenCompose(id -> {
                    cntlid = id;
                    return propertyGet(Opcodes.PROP_CAP, true);
                })
                .thenCompose(cap -> {
                    capabilities = cap;
                    return propertyGet(Opcodes.PROP_VS, false);
                })
                .thenCompose(vs -> {
                    version = (int) (long) vs;
                    return admin("Property Set CC.EN", Commands.propertySet(Opcodes.PROP_CC, CC_ENABLE, false));
                })
                .thenCompose(c -> waitReady(System.nanoTime()
                        + TimeUnit.MILLISECONDS.toNanos(((capabilities >>> 24) & 0xFF) * CAP_TIMEOUT_UNIT_MILLIS)))
                .thenCompose(v -> identifyController())
                .thenCompose(ci -> {
                    info = ci;
                    return ci.isDiscovery() ? CompletableFuture.completedFuture(null) : setUpIo(ci);
                })
                .thenRun(this::startKeepAlive);
    }

    /** Polls CSTS until the controller is ready (or fails, or CAP.TO passes). */
    private CompletableFuture<Void> waitReady(long deadlineNanos) {
        return propertyGet(Opcodes.PROP_CSTS, false).thenCompose(csts -> {
            if ((csts & CSTS_FATAL) != 0) {
                throw new CompletionException(new NvmeTransportException("controller " + cntlid + " of " + subnqn
                        + " reports a fatal status (CSTS 0x" + Long.toHexString(csts) + ") after being enabled"));
            }
            if ((csts & CSTS_READY) != 0) {
                return CompletableFuture.completedFuture(null);
            }
            if (System.nanoTime() - deadlineNanos > 0) {
                throw new CompletionException(new NvmeTransportException("controller " + cntlid + " of " + subnqn
                        + " did not become ready within CAP.TO"));
            }
            CompletableFuture<Void> next = new CompletableFuture<>();
            admin.eventLoop().schedule(() -> forward(waitReady(deadlineNanos), next), READY_POLL_MILLIS,
                    TimeUnit.MILLISECONDS);
            return next;
        });
    }

    private CompletableFuture<Void> setUpIo(ControllerInfo ci) {
        int wanted = options.ioQueues();
        return setFeatures(Opcodes.FEATURE_ASYNC_EVENT_CONFIG, ci.oaes() & AEC_NOTICES)
                .thenCompose(v -> scanNamespaces())
                .thenCompose(v -> wanted == 0 ? CompletableFuture.completedFuture(0)
                        : setFeatures(Opcodes.FEATURE_NUMBER_OF_QUEUES, (wanted - 1) | (wanted - 1) << 16)
                        .thenApply(granted -> Math.min(wanted, Math.min(granted & 0xFFFF, granted >>> 16) + 1)))
                .thenCompose(count -> {
                    CompletableFuture<?>[] queues = new CompletableFuture<?>[count];
                    for (int qid = 1; qid <= count; qid++) {
                        queues[qid - 1] = connectIoQueue(qid);
                    }
                    return CompletableFuture.allOf(queues);
                });
    }

    /** Identifies every active namespace, so that I/O knows their block sizes. */
    private CompletableFuture<Void> scanNamespaces() {
        return activeNamespaces().thenCompose(nsids -> CompletableFuture.allOf(
                Arrays.stream(nsids).mapToObj(this::identifyNamespace).toArray(CompletableFuture[]::new)));
    }

    /**
     * Connects I/O queue {@code qid} to this controller and adds it to the round robin. Connect fails
     * (Connect Invalid Parameters) for a QID the controller did not grant or that is connected already.
     */
    public CompletableFuture<HostQueue> connectIoQueue(int qid) {
        int mqes = (int) (capabilities & 0xFFFF);
        int size = Math.min(options.ioQueueSize(), mqes + 1);
        return HostQueue.open(group, options, address, port, qid, size, info.inCapsuleDataSize(), formats)
                .thenCompose(q -> q.connect(subnqn, cntlid, 0)
                        .whenComplete((id, e) -> {
                            if (e != null) {
                                q.close();
                            }
                        })
                        .thenApply(id -> {
                            addIoQueue(q);
                            return q;
                        }));
    }

    /** Adds a queue to the round robin, in place of a (closed) earlier queue with the same QID. */
    private synchronized void addIoQueue(HostQueue q) {
        HostQueue[] updated = Arrays.stream(ioQueues).filter(old -> old.qid() != q.qid()).toArray(HostQueue[]::new);
        updated = Arrays.copyOf(updated, updated.length + 1);
        updated[updated.length - 1] = q;
        Arrays.sort(updated, Comparator.comparingInt(HostQueue::qid));
        ioQueues = updated;
    }

    // ---- keep alive ----

    private void startKeepAlive() {
        int kato = options.keepAliveTimeoutMillis();
        if (kato > 0 && !isDiscovery()) {
            long period = Math.max(1, kato / 2);
            keepAlive = admin.eventLoop().scheduleAtFixedRate(this::sendKeepAlive, period, period, TimeUnit.MILLISECONDS);
        }
    }

    private void sendKeepAlive() {
        try {
            admin.submit(keepAliveSqe, null, 0, keepAliveDone);
        } catch (IllegalStateException e) {
            log.warn("No room for Keep Alive on the admin queue of controller {}: {}", cntlid, e.getMessage());
        }
    }

    /**
     * Stops sending Keep Alive: the controller then tears itself down once KATO passes. For testing a
     * target's timer, and for simulating a host that hangs.
     */
    public void stopKeepAlive() {
        ScheduledFuture<?> k = keepAlive;
        if (k != null) {
            k.cancel(false);
        }
    }

    private void adminClosed() {
        stopKeepAlive();
        for (HostQueue q : ioQueues) {
            q.close();
        }
    }

    // ---- accessors ----

    public HostOptions options() {
        return options;
    }

    public String subnqn() {
        return subnqn;
    }

    public int cntlid() {
        return cntlid;
    }

    /** The CAP property read at connect. */
    public long capabilities() {
        return capabilities;
    }

    /** The VS property read at connect. */
    public int version() {
        return version;
    }

    /** Identify Controller as read at connect. */
    public ControllerInfo info() {
        return info;
    }

    public HostQueue adminQueue() {
        return admin;
    }

    public int ioQueueCount() {
        return ioQueues.length;
    }

    /** The I/O queue at {@code index} (0-based, in QID order). */
    public HostQueue ioQueue(int index) {
        return ioQueues[index];
    }

    /** Completes when the admin queue's connection closes, which ends the controller. */
    public CompletableFuture<Void> closed() {
        return admin.closed();
    }

    // ---- admin commands ----

    /** Sends an admin command; fails with {@link NvmeStatusException} unless it succeeds. */
    private CompletableFuture<Completion> admin(String what, ByteBuf sqe) {
        return admin.command(sqe, null, 0).thenApply(c -> c.orThrow(what));
    }

    /** Sends an admin command receiving {@code length} bytes; completes with them. */
    private CompletableFuture<ByteBuf> adminRead(String what, ByteBuf sqe, int length) {
        ByteBuf data = Unpooled.buffer(length);
        return admin.command(sqe, data, length).thenApply(c -> {
            c.orThrow(what);
            return data;
        });
    }

    /** Re-authenticates the admin queue (a new DH-HMAC-CHAP transaction), as after a change of secrets. */
    public CompletableFuture<Void> reauthenticate() {
        return admin.authenticate(subnqn);
    }

    public CompletableFuture<Long> propertyGet(int offset, boolean eightBytes) {
        return admin("Property Get 0x" + Integer.toHexString(offset), Commands.propertyGet(offset, eightBytes))
                .thenApply(c -> eightBytes ? c.result() : c.dw0() & 0xFFFFFFFFL);
    }

    public CompletableFuture<ControllerInfo> identifyController() {
        return adminRead("Identify Controller", Commands.identify(Opcodes.CNS_CONTROLLER, 0), Commands.IDENTIFY_LENGTH)
                .thenApply(ControllerInfo::parse);
    }

    /** Identify Namespace; also records (or forgets, if inactive) its format for I/O. */
    public CompletableFuture<NamespaceInfo> identifyNamespace(int nsid) {
        return adminRead("Identify Namespace " + nsid, Commands.identify(Opcodes.CNS_NAMESPACE, nsid),
                Commands.IDENTIFY_LENGTH)
                .thenApply(data -> {
                    NamespaceInfo ns = NamespaceInfo.parse(nsid, data);
                    formats.record(nsid, ns.isActive() ? ns.blockSize() : 0);
                    return ns;
                });
    }

    /** The active namespace list: the NSIDs this host may use, ascending. */
    public CompletableFuture<int[]> activeNamespaces() {
        return adminRead("Identify Active Namespace List", Commands.identify(Opcodes.CNS_ACTIVE_NAMESPACES, 0),
                Commands.IDENTIFY_LENGTH)
                .thenApply(HostController::nsidList);
    }

    public CompletableFuture<NamespaceIdentifiers> namespaceIdentifiers(int nsid) {
        return adminRead("Identify Namespace Descriptors " + nsid,
                Commands.identify(Opcodes.CNS_NAMESPACE_DESCRIPTORS, nsid), Commands.IDENTIFY_LENGTH)
                .thenApply(NamespaceIdentifiers::parse);
    }

    /** Get Log Page; completes with {@code length} bytes of the page from {@code offset} (a heap buffer). */
    public CompletableFuture<ByteBuf> getLogPage(int logId, int nsid, long offset, int length, boolean retainAsyncEvent) {
        return adminRead("Get Log Page 0x" + Integer.toHexString(logId),
                Commands.getLogPage(logId, nsid, offset, length, retainAsyncEvent), length);
    }

    /** The Changed Namespace List log, read so that the next namespace notice is armed again. */
    public CompletableFuture<int[]> changedNamespaces() {
        return getLogPage(Opcodes.LOG_CHANGED_NAMESPACES, 0, 0, Commands.IDENTIFY_LENGTH, false)
                .thenApply(HostController::nsidList);
    }

    /**
     * The ANA log of this controller's path, whole (its largest size from Identify Controller), read
     * without RAE so that the next ANA change is announced; {@code groupsOnly} sets RGO.
     */
    public CompletableFuture<AnaLog> anaLog(boolean groupsOnly) {
        int length = info.anaLogMaxBytes();
        return adminRead("Get Log Page ANA", Commands.getLogPage(Opcodes.LOG_ANA, groupsOnly ? 1 : 0, NSID_ALL, 0,
                length, false), length).thenApply(log -> {
                    try {
                        return AnaLog.parse(log);
                    } finally {
                        log.release();
                    }
                });
    }

    /** Set Features; completes with the command specific result (dword 0). */
    public CompletableFuture<Integer> setFeatures(int featureId, int value) {
        return admin("Set Features 0x" + Integer.toHexString(featureId), Commands.setFeatures(featureId, value))
                .thenApply(Completion::dw0);
    }

    /** Get Features (current value); completes with dword 0. */
    public CompletableFuture<Integer> getFeatures(int featureId) {
        return admin("Get Features 0x" + Integer.toHexString(featureId), Commands.getFeatures(featureId, 0))
                .thenApply(Completion::dw0);
    }

    /**
     * Asynchronous Event Request: completes with the event (dword 0: type in bits 2:0, information in
     * 15:8, log page in 23:16) whenever the controller has one. The controller holds a few at most (AERL).
     */
    public CompletableFuture<Integer> asyncEventRequest() {
        return admin("Asynchronous Event Request", Commands.asyncEventRequest()).thenApply(Completion::dw0);
    }

    private CompletableFuture<List<DiscoveryLogEntry>> discoveryLog(int attempts) {
        return getLogPage(Opcodes.LOG_DISCOVERY, 0, 0, DiscoveryLogEntry.HEADER_SIZE, false).thenCompose(header -> {
            long generation = header.getLongLE(0);
            long records = header.getLongLE(8);
            long length = DiscoveryLogEntry.HEADER_SIZE + records * DiscoveryLogEntry.SIZE;
            if (records < 0 || length > HostQueue.MAX_TRANSFER) {
                throw new CompletionException(new NvmeTransportException("discovery log of " + records + " records"));
            }
            return getLogPage(Opcodes.LOG_DISCOVERY, 0, 0, (int) length, false).thenCompose(page -> {
                if (page.getLongLE(0) != generation) {
                    if (attempts > 1) {
                        return discoveryLog(attempts - 1); // it changed while being read
                    }
                    throw new CompletionException(new NvmeTransportException("discovery log keeps changing"));
                }
                List<DiscoveryLogEntry> entries = new ArrayList<>((int) records);
                for (int i = 0; i < records; i++) {
                    entries.add(DiscoveryLogEntry.parse(page, DiscoveryLogEntry.HEADER_SIZE + i * DiscoveryLogEntry.SIZE));
                }
                return CompletableFuture.completedFuture(entries);
            });
        });
    }

    private static int[] nsidList(ByteBuf list) {
        int count = 0;
        while (count < list.readableBytes() / 4 && list.getIntLE(list.readerIndex() + 4 * count) != 0) {
            count++;
        }
        int[] nsids = new int[count];
        for (int i = 0; i < count; i++) {
            nsids[i] = list.getIntLE(list.readerIndex() + 4 * i);
        }
        return nsids;
    }

    // ---- I/O, round robin over the I/O queues ----

    private HostQueue nextIoQueue() {
        HostQueue[] queues = ioQueues;
        if (queues.length == 0) {
            throw new IllegalStateException("controller " + cntlid + " of " + subnqn + " has no I/O queue");
        }
        return queues[(nextQueue++ & Integer.MAX_VALUE) % queues.length];
    }

    public void read(int nsid, long lba, int blocks, ByteBuf dst, IoCompletion completion) {
        nextIoQueue().read(nsid, lba, blocks, dst, completion);
    }

    public void write(int nsid, long lba, int blocks, ByteBuf src, boolean fua, IoCompletion completion) {
        nextIoQueue().write(nsid, lba, blocks, src, fua, completion);
    }

    public void flush(int nsid, IoCompletion completion) {
        nextIoQueue().flush(nsid, completion);
    }

    public void writeZeroes(int nsid, long lba, int blocks, IoCompletion completion) {
        nextIoQueue().writeZeroes(nsid, lba, blocks, completion);
    }

    public void deallocate(int nsid, long lba, int blocks, IoCompletion completion) {
        nextIoQueue().deallocate(nsid, lba, blocks, completion);
    }

    // ---- teardown ----

    /**
     * Disconnects: Fabrics Disconnect on every I/O queue, a normal shutdown through CC.SHN, then the
     * admin connection closes. Bounded; whatever has not finished by then is closed regardless.
     */
    public CompletableFuture<Void> closeAsync() {
        stopKeepAlive();
        return bounded(this::shutDown, "disconnecting from " + subnqn, CLOSE_TIMEOUT_MILLIS, false)
                .handle((v, e) -> {
                    closeQueues();
                    return null;
                });
    }

    private CompletableFuture<Void> shutDown() {
        HostQueue[] queues = ioQueues;
        CompletableFuture<?>[] disconnects = new CompletableFuture<?>[queues.length];
        for (int i = 0; i < queues.length; i++) {
            disconnects[i] = queues[i].disconnect().exceptionally(e -> null);
        }
        return CompletableFuture.allOf(disconnects)
                .thenCompose(v -> admin.command(Commands.propertySet(Opcodes.PROP_CC, CC_ENABLE | CC_SHUTDOWN_NORMAL, false),
                        null, 0))
                .handle((c, e) -> {
                    admin.close();
                    return null;
                })
                .thenCompose(v -> admin.closed());
    }

    /** {@link #closeAsync()}, waiting for it unless called on one of the group's event loops. */
    @Override
    public void close() {
        CompletableFuture<Void> done = closeAsync();
        for (EventExecutor loop : group) {
            if (loop.inEventLoop()) {
                return;
            }
        }
        try {
            done.get(2L * CLOSE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("Closing controller {} of {}: {}", cntlid, subnqn, e.toString());
        }
    }

    private void closeQueues() {
        stopKeepAlive();
        for (HostQueue q : ioQueues) {
            q.close();
        }
        HostQueue a = admin;
        if (a != null) {
            a.close();
        }
    }

    /**
     * Runs {@code step} within {@code millis}; if it times out, or fails when {@code closeOnFailure},
     * every connection of the controller is closed.
     */
    private <T> CompletableFuture<T> bounded(Supplier<CompletableFuture<T>> step, String what, int millis,
                                             boolean closeOnFailure) {
        CompletableFuture<T> result = new CompletableFuture<>();
        ScheduledFuture<?> timer = group.schedule(() -> {
            if (result.completeExceptionally(new NvmeTransportException(what + " timed out after " + millis + " ms"))) {
                closeQueues();
            }
        }, millis, TimeUnit.MILLISECONDS);
        CompletableFuture<T> started;
        try {
            started = step.get();
        } catch (RuntimeException e) {
            started = CompletableFuture.failedFuture(e);
        }
        started.whenComplete((v, e) -> {
            timer.cancel(false);
            boolean first = e == null ? result.complete(v) : result.completeExceptionally(unwrap(e));
            if (closeOnFailure && (e != null || !first)) {
                closeQueues();
            }
        });
        return result;
    }

    private static void forward(CompletableFuture<Void> from, CompletableFuture<Void> to) {
        from.whenComplete((v, e) -> {
            if (e != null) {
                to.completeExceptionally(unwrap(e));
            } else {
                to.complete(v);
            }
        });
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }
}
