package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.stats.PerThreadCounters;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A controller created by a host's admin queue Connect: its registers, features, I/O queues,
 * asynchronous events and keep alive timer. State changes happen on the admin queue's event loop;
 * I/O queue attachment, which comes from other event loops, is synchronized.
 */
final class Controller implements Subsystem.NamespaceChangeListener {
    private static final Logger log = LoggerFactory.getLogger(Controller.class);
    static final int VERSION_1_3 = 0x00010300;
    /** Outstanding Asynchronous Event Requests accepted (AERL + 1). */
    static final int MAX_ASYNC_EVENT_REQUESTS = 4;
    static final int MAX_CHANGED_NAMESPACES = 1024;
    static final int EVENT_TYPE_NOTICE = 0x2;
    static final int NOTICE_NAMESPACE_ATTRIBUTE_CHANGED = 0x00;
    static final int NOTICE_ANA_CHANGE = 0x03;
    /** Async event configuration bit enabling namespace attribute notices. */
    static final int AEC_NAMESPACE_ATTRIBUTE = 1 << 8;
    /** Async event configuration bit enabling Asymmetric Namespace Access change notices. */
    static final int AEC_ANA_CHANGE = 1 << 11;

    private static final int CC_ENABLE = 1;
    private static final int CSTS_READY = 1;
    private static final int CSTS_FATAL = 1 << 1;
    private static final int CSTS_SHUTDOWN_COMPLETE = 2 << 2;

    private final NvmeTarget target;
    private final int cntlid;
    private final Subsystem subsystem;
    private final String hostNqn;
    private final UUID hostId;
    private final TargetQueue adminQueue;
    /** Its subsystem's ANA states through the port it was created on (null for discovery): the path it is. */
    private final AnaGroupStates anaStates;
    private final TargetQueue[] ioQueues;
    private final ArrayDeque<Request> asyncEventRequests = new ArrayDeque<>();
    private final ArrayDeque<Integer> pendingEvents = new ArrayDeque<>();
    private final Set<Integer> changedNamespaces = new LinkedHashSet<>();
    private boolean changedNamespacesOverflow;
    private boolean namespaceNoticeMasked;
    /** An ANA change notice was sent and the host has not read the ANA log (without RAE) since. */
    private boolean anaNoticeMasked;
    /**
     * The SMART log's I/O figures, counted per event loop (the controller's I/O queues may run on
     * several) and summed when the log page is read: {@link #READ_COMMANDS} and the others.
     */
    final PerThreadCounters io = new PerThreadCounters(4);
    static final int READ_COMMANDS = 0;
    static final int BLOCKS_READ = 1;
    static final int WRITE_COMMANDS = 2;
    static final int BLOCKS_WRITTEN = 3;
    private int cc;
    /** Read by I/O queue Connects on other event loops. */
    private volatile int csts;
    private int grantedIoQueues;
    private int asyncEventConfig;
    private volatile boolean volatileWriteCache = true;
    private int keepAliveMillis;
    private long lastKeepAliveNanos = System.nanoTime();
    private ScheduledFuture<?> keepAliveCheck;
    private boolean destroyed;

    Controller(NvmeTarget target, int cntlid, Subsystem subsystem, String hostNqn, UUID hostId, int keepAliveMillis,
               TargetQueue adminQueue) {
        this.target = target;
        this.cntlid = cntlid;
        this.subsystem = subsystem;
        this.hostNqn = hostNqn;
        this.hostId = hostId;
        this.adminQueue = adminQueue;
        this.anaStates = subsystem == null ? null : adminQueue.portAnaStates().of(subsystem.nqn());
        this.grantedIoQueues = target.options().maxIoQueues();
        this.ioQueues = new TargetQueue[grantedIoQueues + 1];
        this.keepAliveMillis = keepAliveMillis;
        scheduleKeepAliveCheck();
    }

    public int cntlid() {
        return cntlid;
    }

    /** The subsystem, or null for a discovery controller. */
    public Subsystem subsystem() {
        return subsystem;
    }

    public boolean isDiscovery() {
        return subsystem == null;
    }

    @Override
    public String hostNqn() {
        return hostNqn;
    }

    public UUID hostId() {
        return hostId;
    }

    NvmeTarget target() {
        return target;
    }

    /**
     * Its subsystem's ANA states through the port the controller was created on: what its ANA log reports
     * and what its I/O queues' commands are checked against.
     */
    AnaGroupStates anaStates() {
        return anaStates;
    }

    boolean isReady() {
        return (csts & CSTS_READY) != 0;
    }

    boolean volatileWriteCache() {
        return volatileWriteCache;
    }

    void volatileWriteCache(boolean enabled) {
        volatileWriteCache = enabled;
    }

    synchronized int grantedIoQueues() {
        return grantedIoQueues;
    }

    /**
     * Grants up to the target's limit; returns the number granted, or -1 once I/O queues exist (the
     * number cannot change then).
     */
    synchronized int requestIoQueues(int requested) {
        for (int qid = 1; qid < ioQueues.length; qid++) {
            if (ioQueues[qid] != null) {
                return -1;
            }
        }
        grantedIoQueues = Math.min(requested, target.options().maxIoQueues());
        return grantedIoQueues;
    }

    int asyncEventConfig() {
        return asyncEventConfig;
    }

    void asyncEventConfig(int config) {
        asyncEventConfig = config;
    }

    int keepAliveMillis() {
        return keepAliveMillis;
    }

    void keepAliveMillis(int millis) {
        keepAliveMillis = millis;
        scheduleKeepAliveCheck();
    }

    void executeAdmin(Request req) {
        if (isDiscovery()) {
            DiscoveryCommands.execute(req, this);
        } else {
            AdminCommands.execute(req, this);
        }
    }

    void executeIo(Request req) {
        IoCommands.execute(req, this);
    }

    // ---- properties (controller registers) ----

    Long property(int offset, boolean eightBytes) {
        return switch (offset) {
            case Opcodes.PROP_CAP -> eightBytes ? capabilities() : null;
            case Opcodes.PROP_VS -> (long) VERSION_1_3;
            case Opcodes.PROP_CC -> (long) cc;
            case Opcodes.PROP_CSTS -> (long) csts;
            default -> null;
        };
    }

    private long capabilities() {
        long mqes = target.options().maxQueueSize() - 1;
        long contiguousQueuesRequired = 1L << 16;
        long timeout = 15L << 24; // 7.5 s to become ready, in 500 ms units
        long nvmCommandSet = 1L << 37;
        return mqes | contiguousQueuesRequired | timeout | nvmCommandSet;
    }

    int setProperty(int offset, long value) {
        if (offset != Opcodes.PROP_CC) {
            return Status.INVALID_FIELD | Status.DNR;
        }
        int newCc = (int) value;
        boolean wasEnabled = (cc & CC_ENABLE) != 0;
        boolean enable = (newCc & CC_ENABLE) != 0;
        int shutdown = (newCc >> 14) & 0x3;
        int oldShutdown = (cc >> 14) & 0x3;
        cc = newCc;
        if (enable && !wasEnabled) {
            int css = (newCc >> 4) & 0x7;
            int mps = (newCc >> 7) & 0xF;
            int iosqes = (newCc >> 16) & 0xF;
            int iocqes = (newCc >> 20) & 0xF;
            if (css != 0 || mps != 0 || iosqes != 6 || iocqes != 4) {
                log.warn("Controller {}: host {} enabled it with unsupported CC 0x{}", cntlid, hostNqn, Integer.toHexString(newCc));
                csts = CSTS_FATAL;
            } else {
                csts = CSTS_READY;
            }
        } else if (!enable && wasEnabled) {
            csts = 0;
        }
        if (shutdown != 0 && oldShutdown == 0) {
            csts |= CSTS_SHUTDOWN_COMPLETE;
        } else if (shutdown == 0) {
            csts &= ~CSTS_SHUTDOWN_COMPLETE;
        }
        return Status.SUCCESS;
    }

    // ---- queues ----

    synchronized int attachIoQueue(int qid, TargetQueue queue) {
        if (destroyed || !isReady()) {
            return Status.COMMAND_SEQUENCE_ERROR | Status.DNR;
        }
        if (qid > grantedIoQueues || qid >= ioQueues.length || ioQueues[qid] != null) {
            return Status.CONNECT_INVALID_PARAMETERS;
        }
        ioQueues[qid] = queue;
        return Status.SUCCESS;
    }

    void queueClosed(TargetQueue queue) {
        if (queue == adminQueue) {
            destroy("admin queue closed");
        } else {
            synchronized (this) {
                if (queue.qid() > 0 && queue.qid() < ioQueues.length && ioQueues[queue.qid()] == queue) {
                    ioQueues[queue.qid()] = null;
                }
            }
        }
    }

    /** Tears the controller down: every queue is closed and outstanding events are abandoned. */
    void destroy(String why) {
        TargetQueue[] queues;
        synchronized (this) {
            if (destroyed) {
                return;
            }
            destroyed = true;
            queues = ioQueues.clone();
        }
        log.info("Controller {} of host {} destroyed: {}", cntlid, hostNqn, why);
        if (keepAliveCheck != null) {
            keepAliveCheck.cancel(false);
        }
        if (subsystem != null) {
            subsystem.unregister(this);
        }
        target.controllerDestroyed(this);
        for (TargetQueue q : queues) {
            if (q != null) {
                q.execute(q::close);
            }
        }
        adminQueue.execute(() -> {
            Request r;
            while ((r = asyncEventRequests.poll()) != null) {
                r.complete(Status.ABORT_REQUESTED);
            }
            adminQueue.close();
        });
    }

    // ---- keep alive ----

    void keepAlive() {
        lastKeepAliveNanos = System.nanoTime();
    }

    private void scheduleKeepAliveCheck() {
        if (keepAliveCheck != null) {
            keepAliveCheck.cancel(false);
            keepAliveCheck = null;
        }
        lastKeepAliveNanos = System.nanoTime();
        if (keepAliveMillis > 0) {
            long period = Math.max(100, Math.min(keepAliveMillis / 2, 1000));
            keepAliveCheck = adminQueue.channel().eventLoop()
                    .scheduleAtFixedRate(this::checkKeepAlive, period, period, TimeUnit.MILLISECONDS);
        }
    }

    private void checkKeepAlive() {
        long silentMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastKeepAliveNanos);
        if (silentMillis > keepAliveMillis) {
            log.warn("Controller {} of host {}: no Keep Alive for {} ms (KATO {} ms)", cntlid, hostNqn, silentMillis,
                    keepAliveMillis);
            destroy("keep alive timeout");
        }
    }

    // ---- asynchronous events ----

    void asyncEventRequest(Request req) {
        if (asyncEventRequests.size() >= MAX_ASYNC_EVENT_REQUESTS) {
            req.complete(Status.ASYNC_EVENT_LIMIT_EXCEEDED);
            return;
        }
        asyncEventRequests.add(req);
        deliverEvents();
    }

    @Override
    public void namespacesChanged(Collection<Integer> nsids) {
        adminQueue.execute(() -> recordChangedNamespaces(nsids));
    }

    private void recordChangedNamespaces(Collection<Integer> nsids) {
        if (destroyed) {
            return;
        }
        for (Integer nsid : nsids) {
            if (changedNamespaces.size() >= MAX_CHANGED_NAMESPACES) {
                changedNamespacesOverflow = true;
            } else {
                changedNamespaces.add(nsid);
            }
        }
        if ((asyncEventConfig & AEC_NAMESPACE_ATTRIBUTE) != 0 && !namespaceNoticeMasked) {
            namespaceNoticeMasked = true;
            pendingEvents.add(EVENT_TYPE_NOTICE | NOTICE_NAMESPACE_ATTRIBUTE_CHANGED << 8
                    | Opcodes.LOG_CHANGED_NAMESPACES << 16);
            deliverEvents();
        }
    }

    /** An ANA group this controller's host sees changed state on this controller's port. */
    void anaChanged() {
        adminQueue.execute(() -> {
            if (!destroyed && (asyncEventConfig & AEC_ANA_CHANGE) != 0 && !anaNoticeMasked) {
                anaNoticeMasked = true;
                pendingEvents.add(EVENT_TYPE_NOTICE | NOTICE_ANA_CHANGE << 8 | Opcodes.LOG_ANA << 16);
                deliverEvents();
            }
        });
    }

    /** The host reads the ANA log; without RAE the next ANA change is announced again. */
    void anaLogRead(boolean retainEvent) {
        if (!retainEvent) {
            anaNoticeMasked = false;
        }
    }

    private void deliverEvents() {
        while (!pendingEvents.isEmpty() && !asyncEventRequests.isEmpty()) {
            Request r = asyncEventRequests.poll();
            r.result(pendingEvents.poll());
            r.complete(Status.SUCCESS);
        }
    }

    /** The Changed Namespace List log; reading it with RAE clear re-arms the notice. */
    int[] changedNamespaces(boolean retainEvent) {
        int[] list = changedNamespacesOverflow ? new int[] {0xFFFFFFFF}
                : changedNamespaces.stream().mapToInt(Integer::intValue).toArray();
        if (!retainEvent) {
            changedNamespaces.clear();
            changedNamespacesOverflow = false;
            namespaceNoticeMasked = false;
        }
        return list;
    }
}
