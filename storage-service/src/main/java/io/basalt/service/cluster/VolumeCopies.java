package io.basalt.service.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.cluster.Cluster;
import io.basalt.cluster.ClusterException;
import io.basalt.cluster.membership.Member;
import io.basalt.cluster.membership.PortalAddress;
import io.basalt.cluster.volumes.VolumeRecords;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.nvmet.AnaState;
import io.basalt.nvmetcp.nvmet.CntlidRange;
import io.basalt.nvmetcp.nvmet.NvmeTarget;
import io.basalt.nvmetcp.nvmet.Subsystem;
import io.basalt.service.dataplane.VolumeDevice;
import io.basalt.service.replication.EtcdInSyncSet;
import io.basalt.service.replication.RemoteReplica;
import io.basalt.service.replication.ReplicaRoles;
import io.basalt.service.replication.ReplicaSubsystem;
import io.basalt.service.replication.ReplicatedStore;
import io.basalt.service.replication.ReplicationException;
import io.basalt.service.volume.VolumeManager;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * How this node serves its copies of replicated volumes (see docs/cluster.md, "Replication" and
 * "Discovery and multipath"). Every node holding a copy shows hosts the volume's namespace in the
 * volume's own subsystem (the same NQN, NSID, UUID and NGUID everywhere; controller IDs from this node's
 * part of the range), through a {@link HostPath}. On the primary that path is ANA optimized while its
 * lease fence holds and serves through a {@link ReplicatedStore} that forwards every write to the
 * in-sync secondaries' copies, reached through their portals with this node's host NQN. On a secondary
 * the path is ANA inaccessible and refuses every command; the copy is written only by the primary,
 * through its replica subsystem, whose ACL lists the host NQNs of the volume's nodes, behind a
 * {@code GenerationFence}.
 *
 * <p>Used by {@link AssignedVolumes} on its one thread, which may wait here for a secondary's connection
 * ({@value #CONNECT_TIMEOUT_SECONDS} s at most each) or for etcd to record a secondary out of sync (the
 * cluster's call timeout, per attempt); never on an event loop.
 */
final class VolumeCopies implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeCopies.class);
    /** A node's host NQN, the one it connects to other nodes' replica subsystems with: from its node id. */
    private static final String HOST_NQN_PREFIX = "nqn.2014-08.org.nvmexpress:uuid:";
    /** How long connecting to a secondary's replica subsystem (and identifying its namespace) may take. */
    static final long CONNECT_TIMEOUT_SECONDS = 10;
    /** A secondary with commands outstanding that completes none for this long is cut and taken out of sync. */
    static final long REPLICATION_TIMEOUT_SECONDS = 5;
    /** How long a primary waits for its secondaries' reports before it serves a volume without them. */
    static final long SECONDARIES_WAIT_SECONDS = 10;
    /** How long each step of a rejoin may take: a pass over the dirty regions, the drain, etcd's record. */
    static final long REJOIN_STEP_TIMEOUT_SECONDS = 60;
    /** How long after a rejoin or a hand-over failed the primary looks at the volume again. */
    static final long RETRY_SECONDS = 5;
    /** Regions of the dirty maps of small volumes: 1 MiB of 4 KiB blocks (larger volumes get larger ones). */
    private static final int REGION_BLOCKS = 256;
    private static final int QUEUES_PER_SECONDARY = 2;
    /** The parts of the controller ID range, one per position in a record's {@code nodeIds} (replicas are 1 to 3). */
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CNTLID_PARTS = 3;
    /** The ANA group of a replicated volume's namespace in its own subsystem. */
    private static final int ANA_GROUP = 1;
    /** How long a primary holds writes back for its in-sync secondaries to take a snapshot. */
    static final long SNAPSHOT_WAIT_SECONDS = 10;
    /** A change of a record that lost this many races against others in a row gives up. */
    private static final int RECORD_ATTEMPTS = 5;
    /** How often a primary's path state is matched to its lease fence. */
    static final long FENCE_CHECK_MILLIS = 100;

    private final Cluster cluster;
    private final VolumeManager local;
    private final NvmeTarget target;
    private final EventLoopGroup eventLoops;
    private final String self;
    /** Runs the replicated stores' stall checks and their in-sync set transactions; never an event loop. */
    private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("basalt-replication").daemon().factory());
    private final Map<String, ReplicatedStore> primaries = new ConcurrentHashMap<>();
    private final Map<String, ReplicaSubsystem> secondaries = new ConcurrentHashMap<>();
    /** Each replicated volume's path to hosts on this node, shown in the volume's subsystem, by volume id. */
    private final Map<String, HostPath> hostPaths = new ConcurrentHashMap<>();
    /** Held while a volume's ANA state changes with its role: the fence check never undoes a step-down. */
    private final Object anaStates = new Object();
    /**
     * Brings returning secondaries back in sync, one at a time: a copy may take long, and must not hold up
     * the changes {@link AssignedVolumes} applies meanwhile.
     */
    private final ExecutorService rejoins = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("basalt-rejoin").daemon().factory());
    private final LongAdder rejoinedBlocks = new LongAdder();
    /** Volumes whose primary waits for its secondaries' first reports: since when ({@link System#nanoTime}). */
    private final Map<String, Long> waitingSince = new ConcurrentHashMap<>();
    /** The primary each copy served here was last served as or for: a change is a promotion. */
    private final Map<String, String> primaryOf = new ConcurrentHashMap<>();
    /** {@code <volume id>@<node id>} of the rejoins queued or running. */
    private final Set<String> rejoining = ConcurrentHashMap.newKeySet();
    /** Whether a primary gives a volume back to its preferred copy once that copy is in sync again. */
    private final boolean failback;
    /** Volumes this primary is giving back (under {@link #anaStates}): the fence check leaves their paths alone. */
    private final Set<String> handingOver = ConcurrentHashMap.newKeySet();
    /** What nodes authenticate with to each other's replica subsystems. */
    private final NodeCredentials credentials;
    /** {@code <volume id>/<snapshot id>} of the snapshots this primary is taking, queued or under way. */
    private final Set<String> snapshotting = ConcurrentHashMap.newKeySet();

    VolumeCopies(Cluster cluster, VolumeManager local, NvmeTarget target, EventLoopGroup eventLoops, boolean failback) {
        this.cluster = cluster;
        this.failback = failback;
        this.local = local;
        this.target = target;
        this.eventLoops = eventLoops;
        this.self = cluster.self().nodeId();
        this.credentials = new NodeCredentials(cluster.secret());
        control.scheduleWithFixedDelay(this::matchPathsToFence, FENCE_CHECK_MILLIS, FENCE_CHECK_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /**
     * A primary's paths are optimized only while it may acknowledge writes: once its lease fence falls
     * (its commands end {@code FENCED} already) they turn inaccessible, so hosts' multipath stops sending
     * there and waits for the path the promotion makes optimized; they turn optimized again when the
     * fence rises. Runs every {@value #FENCE_CHECK_MILLIS} ms on the control thread.
     */
    private void matchPathsToFence() {
        AnaState state = cluster.leaseFence().mayAcknowledge() ? AnaState.OPTIMIZED : AnaState.INACCESSIBLE;
        for (String volumeId : primaries.keySet()) {
            try {
                synchronized (anaStates) {
                    if (primaries.containsKey(volumeId) && !handingOver.contains(volumeId)) {
                        target.anaState(VolumeManager.volumeNqn(volumeId), ANA_GROUP, state);
                    }
                }
            } catch (RuntimeException e) {
                // A periodic task that throws is never run again: log it and keep checking the others.
                LOG.error("volume {}: cannot set its path {}", volumeId, state, e);
            }
        }
    }

    static String hostNqn(String nodeId) {
        return HOST_NQN_PREFIX + nodeId;
    }

    /** The subsystem that serves this node's copy of {@code volumeId} to its primary. */
    String replicaNqn(String volumeId) {
        return ReplicaSubsystem.nqn(local.subsystem().nqn(), volumeId);
    }

    /** Whether this node's copy is served as its role says (a single-copy volume: by the node's subsystem). */
    boolean serving(VolumeDesire desire) {
        if (desire.replicas() == 1) {
            return true;
        }
        return desire.holder().equals(self) ? primaries.containsKey(desire.id())
                : secondaries.containsKey(desire.id());
    }

    /**
     * Whether every in-sync secondary has applied {@code desire}'s generation and serves its copy: the
     * primary applies a generation only then, so it never forwards a write past a copy's end, nor
     * serves hosts before every copy can take their writes.
     */
    boolean secondariesReady(VolumeDesire desire) {
        return desire.secondaries().stream().filter(desire.inSyncNodes()::contains)
                .allMatch(nodeId -> servesCurrentGeneration(desire, nodeId));
    }

    /**
     * For a primary not serving the volume yet (a new volume, or after its restart) whose in-sync
     * secondaries have not all reported: whether it has waited {@link #SECONDARIES_WAIT_SECONDS} for them
     * since it first found them missing, after which it serves the volume without them (recording them
     * out of sync, to rejoin when they report). Until then {@code again} is run once the wait is over. A
     * primary that serves the volume already waits for its in-sync secondaries' reports of a change as
     * long as they take (the API refuses changes while one of their nodes is down).
     */
    boolean waitedForSecondaries(VolumeDesire desire, Runnable again) {
        if (serving(desire)) {
            return false;
        }
        long now = System.nanoTime();
        long since = waitingSince.computeIfAbsent(desire.id(), id -> {
            control.schedule(again, SECONDARIES_WAIT_SECONDS, TimeUnit.SECONDS);
            return now;
        });
        return now - since >= TimeUnit.SECONDS.toNanos(SECONDARIES_WAIT_SECONDS);
    }

    /** Whether the copy on {@code nodeId} reported {@code desire}'s generation applied and its copy served. */
    private boolean servesCurrentGeneration(VolumeDesire desire, String nodeId) {
        VolumeReport report = reportOf(desire, nodeId);
        return report != null && report.applied(desire.generation()) && report.nsid() > 0;
    }

    private VolumeReport reportOf(VolumeDesire desire, String nodeId) {
        String stateId = VolumeReport.stateId(desire, nodeId);
        return ClusterVolumes.report(stateId, cluster.volumes().states().get(stateId));
    }

    /** Serves this node's copy as its role says, if it is not served yet; the copy exists in {@link #local}. */
    void serve(VolumeDesire desire) throws ClusterException {
        if (!desire.holder().equals(self)) {
            followPrimary(desire);
        }
        if (serving(desire)) {
            return;
        }
        if (desire.holder().equals(self)) {
            // Promoted: its copy is no longer a replica (a deposed primary's writes to it find no subsystem).
            stopServingSecondary(desire.id());
            servePrimary(desire);
        } else {
            serveSecondary(desire);
        }
    }

    /**
     * On a node whose copy the record serves as a secondary: a record that names a primary other than the
     * one this node served the volume for, or served it to, is a promotion. A deposed primary stops
     * serving hosts and forwarding (its copy is served as a secondary next, and the new primary, which
     * tracks it whole, copies it back in sync); a secondary raises its fence to the promotion's generation
     * at once, so that the old primary's forwarded writes are refused even before the new primary's first
     * command raises it.
     */
    private void followPrimary(VolumeDesire desire) {
        String before = primaryOf.put(desire.id(), desire.holder());
        if (before == null || before.equals(desire.holder())) {
            return;
        }
        if (primaries.containsKey(desire.id())) {
            closePrimary(desire.id());
            LOG.warn("volume {}: node {} is its primary now, at generation {}; this node serves its copy as a"
                    + " secondary", desire.id(), desire.holder(), desire.generation());
        }
        ReplicaSubsystem replica = secondaries.get(desire.id());
        if (replica != null) {
            replica.fence().raise(desire.generation());
        }
    }

    private void serveSecondary(VolumeDesire desire) {
        showToHosts(desire);
        Set<String> nodes = desire.nodeIds().stream().map(VolumeCopies::hostNqn).collect(Collectors.toSet());
        String nqn = replicaNqn(desire.id());
        // Generation 0: this copy's primary is the record's, whose commands raise the fence. A fence
        // raised from etcd here could refuse that primary for a bump it made itself and has not sent yet.
        ReplicaSubsystem replica = ReplicaSubsystem.of(nqn, serial(desire.id()),
                new VolumeDevice(local.store(desire.id()), false), 0, nodes, desire.uuid(),
                HexFormat.of().parseHex(desire.nguid()));
        replica.subsystem().authenticateEveryHost(credentials::of); // the ACL's node NQNs are no secret
        target.addSubsystem(replica.subsystem());
        secondaries.put(desire.id(), replica);
        primaryOf.put(desire.id(), desire.holder());
        LOG.info("serving the copy of volume {} to its primary {} as {}", desire.id(), desire.holder(), nqn);
    }

    /**
     * Shows hosts this node's path to the volume, in the volume's subsystem, if it is not shown yet: it
     * is inaccessible (before the subsystem is reachable) and refuses every command until this node
     * serves the volume as its primary.
     */
    private HostPath showToHosts(VolumeDesire desire) {
        HostPath shown = hostPaths.get(desire.id());
        if (shown != null) {
            return shown;
        }
        HostPath path = new HostPath(local.store(desire.id()));
        String nqn = VolumeManager.volumeNqn(desire.id());
        target.anaState(nqn, ANA_GROUP, AnaState.INACCESSIBLE);
        int position = desire.nodeIds().indexOf(self);
        Subsystem subsystem = local.serve(desire.id(), store -> path, CntlidRange.part(position, CNTLID_PARTS));
        target.addSubsystem(subsystem);
        hostPaths.put(desire.id(), path);
        return path;
    }

    /**
     * Connects to every in-sync secondary and serves the volume to hosts through a replicated store. A
     * secondary that cannot be reached is taken out of the in-sync set first (and then copied whole when
     * it rejoins), as one that fails later would be.
     */
    private void servePrimary(VolumeDesire desire) throws ClusterException {
        EtcdInSyncSet inSyncSet = new EtcdInSyncSet(cluster.volumeTransactions(), desire.id(), self, control);
        long generation = desire.generation();
        List<RemoteReplica> connected = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        try {
            for (String nodeId : desire.secondaries()) {
                if (!desire.inSyncNodes().contains(nodeId)) {
                    unknown.add(nodeId);
                    continue;
                }
                Optional<RemoteReplica> replica = Optional.empty();
                if (servesCurrentGeneration(desire, nodeId)) {
                    replica = connect(desire, nodeId, generation);
                } else {
                    LOG.warn("volume {}: the copy on {} has not reported generation {}; serving without it",
                            desire.id(), nodeId, desire.generation());
                }
                if (replica.isPresent()) {
                    connected.add(replica.get());
                } else {
                    generation = recorded(inSyncSet.remove(nodeId), desire.id(), nodeId);
                    unknown.add(nodeId);
                }
            }
            HostPath path = showToHosts(desire);
            ReplicatedStore replicated = new ReplicatedStore(desire.id(), local.store(desire.id()), connected,
                    generation, inSyncSet, REGION_BLOCKS, REPLICATION_TIMEOUT_SECONDS, TimeUnit.SECONDS, control);
            // Before hosts' commands reach it: no write is acknowledged once this node's lease may have
            // expired, so before a secondary can be promoted in its place.
            replicated.acknowledgeOnlyWithin(cluster.leaseFence());
            unknown.forEach(replicated::trackUnknown);
            path.serveThrough(replicated);
            synchronized (anaStates) {
                primaries.put(desire.id(), replicated);
                primaryOf.put(desire.id(), self);
                // Optimized only once it serves; the fence check turns it inaccessible if the fence is down.
                target.anaState(VolumeManager.volumeNqn(desire.id()), ANA_GROUP, cluster.leaseFence().mayAcknowledge()
                        ? AnaState.OPTIMIZED : AnaState.INACCESSIBLE);
            }
        } catch (ClusterException | RuntimeException e) {
            connected.forEach(RemoteReplica::close); // nothing forwards to them: the next attempt connects again
            throw e;
        }
        waitingSince.remove(desire.id());
        LOG.info("serving volume {} as its primary, forwarding to {} (out of sync: {}), generation {}",
                desire.id(), connected.stream().map(RemoteReplica::nodeId).toList(), unknown, generation);
    }

    /** The generation that records {@code nodeId} out of sync, once etcd has it ({@link EtcdInSyncSet} bounds each call). */
    private static long recorded(CompletableFuture<Long> removal, String volumeId, String nodeId)
            throws ClusterException {
        try {
            return removal.get();
        } catch (ExecutionException e) {
            throw new ClusterException("volume " + volumeId + ": cannot record the copy on " + nodeId
                    + " out of sync: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterException("interrupted while recording the copy on " + nodeId + " out of sync", e);
        }
    }

    /** The secondary's copy over NVMe/TCP, or empty (logged) when it cannot be reached in time. */
    private Optional<RemoteReplica> connect(VolumeDesire desire, String nodeId, long generation) {
        VolumeReport report = reportOf(desire, nodeId);
        Optional<PortalAddress> portal = cluster.members().stream().filter(m -> m.nodeId().equals(nodeId))
                .filter(Member::live).flatMap(m -> m.description().portals().stream())
                .filter(p -> "tcp".equals(p.transport())).findFirst();
        if (report == null || report.nqn() == null || portal.isEmpty()) {
            LOG.warn("volume {}: the copy on {} is not served or its node is down", desire.id(), nodeId);
            return Optional.empty();
        }
        HostOptions options = HostOptions.defaults(hostNqn(self))
                .withIoQueues(QUEUES_PER_SECONDARY, HostOptions.DEFAULT_QUEUE_SIZE)
                .withDhchap(credentials.of(hostNqn(self)));
        CompletableFuture<RemoteReplica> connecting = RemoteReplica.connect(nodeId, eventLoops, options,
                portal.get().address(), portal.get().port(), report.nqn(), generation);
        try {
            return Optional.of(connecting.get(CONNECT_TIMEOUT_SECONDS, TimeUnit.SECONDS));
        } catch (ExecutionException | TimeoutException e) {
            connecting.thenAccept(RemoteReplica::close); // one that connects after all is not kept
            LOG.warn("volume {}: cannot reach the copy on {} at {}:{}: {}", desire.id(), nodeId,
                    portal.get().address(), portal.get().port(), e.toString());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connecting.thenAccept(RemoteReplica::close);
            return Optional.empty();
        }
    }

    /**
     * On the primary: starts bringing back each secondary out of the in-sync set that serves its copy
     * again (its live node reported the record's current generation, which the generation bump that took
     * it out makes newer than any report from before). The rejoin copies only the regions written since
     * it left ({@link ReplicatedStore#rejoin}). {@code again} (the volume looked at anew) runs once a
     * rejoin is done, since a copy in sync here may now be given the volume back ({@link #giveBack}: no
     * change in etcd follows the store's own step, and the secondary's report may have come before it),
     * and {@value #RETRY_SECONDS} s after one failed.
     */
    void rejoinReturned(VolumeDesire desire, Runnable again) {
        ReplicatedStore store = primaries.get(desire.id());
        if (store == null) {
            return;
        }
        for (String nodeId : desire.secondaries()) {
            String stateId = VolumeReport.stateId(desire, nodeId);
            if (desire.inSyncNodes().contains(nodeId) || !servesCurrentGeneration(desire, nodeId)
                    || !live(nodeId) || !rejoining.add(stateId)) {
                continue;
            }
            rejoins.execute(() -> {
                try {
                    if (rejoin(desire, nodeId, store)) {
                        again.run();
                    } else {
                        retryLater(again);
                    }
                } finally {
                    rejoining.remove(stateId);
                }
            });
        }
    }

    /**
     * Failback: on the primary, once the volume's preferred copy (the first of {@code nodeIds}, where
     * placement put the primary) is live, in sync here and in etcd, and serves the record's generation,
     * gives the volume back to it ({@link #handOver}, on the rejoin thread). Called with every change of
     * the record or of a copy's report, and after each rejoin, so the last of those conditions to come
     * true brings it here; a hand-over that fails runs {@code again} {@value #RETRY_SECONDS} s later.
     */
    void giveBack(VolumeDesire desire, Runnable again) {
        String preferred = desire.nodeIds().getFirst();
        ReplicatedStore store = primaries.get(desire.id());
        if (!failback || store == null || preferred.equals(self) || !desire.inSyncNodes().contains(preferred)
                || !store.inSyncNodes().contains(preferred) || !servesCurrentGeneration(desire, preferred)
                || !live(preferred)
                || !handingOver.add(desire.id())) {
            return;
        }
        rejoins.execute(() -> {
            if (!handOver(desire.id(), preferred, store)) {
                retryLater(again);
            }
        });
    }

    /**
     * Gives the volume to {@code preferred}: this node's path turns inaccessible and refuses hosts'
     * commands (ANA Transition: a multipath host holds them until a path is optimized), the writes in
     * flight complete on every in-sync copy, and then one etcd transaction names {@code preferred} the
     * primary, with the same in-sync set (every copy holds every acknowledged write, and nothing changes
     * any more) and the generation bumped; the record's watch then makes this node a secondary and
     * {@code preferred} the primary, whose path turns optimized. If anything fails first, this node
     * serves on as before.
     *
     * @return whether the volume was given, or is no longer this node's to give
     */
    private boolean handOver(String volumeId, String preferred, ReplicatedStore store) {
        HostPath path = hostPaths.get(volumeId);
        synchronized (anaStates) {
            if (primaries.get(volumeId) != store || path == null) {
                handingOver.remove(volumeId); // no longer this node's to give
                return true;
            }
            target.anaState(VolumeManager.volumeNqn(volumeId), ANA_GROUP, AnaState.INACCESSIBLE);
        }
        boolean given = false;
        try {
            path.serveThrough(null);
            store.pauseForHandOver(REJOIN_STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            VolumeRecords.Stored stored = cluster.volumes().desired().get(volumeId);
            if (stored != null && JSON.readTree(stored.json()) instanceof ObjectNode record
                    && self.equals(ReplicaRoles.primary(record)) && ReplicaRoles.inSync(record).contains(preferred)) {
                record.put("primary", preferred);
                record.put("generation", ReplicaRoles.generation(record) + 1);
                given = cluster.volumeTransactions().handOver(volumeId, stored.modRevision(),
                        JSON.writeValueAsBytes(record), preferred);
            }
            if (given) {
                store.handedOver();
                LOG.info("volume {}: given back to its preferred copy on {} (failback)", volumeId, preferred);
            }
        } catch (ReplicationException | ClusterException | IOException | RuntimeException e) {
            LOG.warn("volume {}: could not give it back to {}: {}", volumeId, preferred, e.toString());
        } finally {
            if (!given) {
                store.keepServing();
                path.serveThrough(store);
                synchronized (anaStates) {
                    handingOver.remove(volumeId); // the fence check sets the path's state again
                }
            }
        }
        return given;
    }

    /**
     * On the primary: takes each snapshot the record asks for ({@link SnapshotEntry.State#WANTED}) on every
     * copy, and reverts every copy when the record asks for it, on the rejoin thread (so never while a
     * rejoin or a hand-over has the store paused).
     */
    void carryOutSnapshots(VolumeDesire desire) {
        ReplicatedStore store = primaries.get(desire.id());
        if (store == null) {
            return;
        }
        String revertKey = desire.id() + "/revert";
        if (desire.revert() != null && desire.revert().error() == null && snapshotting.add(revertKey)) {
            rejoins.execute(() -> {
                try {
                    revertCopies(desire.id(), store);
                } finally {
                    snapshotting.remove(revertKey);
                }
            });
        }
        for (SnapshotEntry entry : desire.snapshots()) {
            String key = desire.id() + "/" + entry.id();
            if (entry.state() != SnapshotEntry.State.TAKEN && snapshotting.add(key)) {
                rejoins.execute(() -> {
                    try {
                        if (entry.state() == SnapshotEntry.State.WANTED) {
                            takeSnapshot(desire.id(), entry, store);
                        } else {
                            dropHalfTaken(desire.id(), entry, store);
                        }
                    } finally {
                        snapshotting.remove(key);
                    }
                });
            }
        }
    }

    /**
     * A snapshot {@link SnapshotEntry.State#TAKING} that this primary is not taking was left by a primary
     * that stopped in the middle (this node before a restart, or the one it replaced): copies may have
     * taken it at different points of the writes since, so it goes from the record, and so from every copy.
     */
    private void dropHalfTaken(String volumeId, SnapshotEntry entry, ReplicatedStore store) {
        try {
            VolumeDesire removed = primaries.get(volumeId) != store ? null : changeRecord(volumeId, d -> d.snapshot(
                    entry.id()).filter(e -> e.state() == SnapshotEntry.State.TAKING).isEmpty() ? null
                    : d.withoutSnapshot(entry.id()));
            if (removed != null) {
                LOG.warn("volume {}: snapshot {} '{}' was left half taken by a primary that stopped; removed from"
                        + " every copy", volumeId, entry.id(), entry.name());
            }
        } catch (ClusterException | RuntimeException e) {
            LOG.warn("volume {}: cannot remove half-taken snapshot {}: {}", volumeId, entry.id(), e.toString());
        }
    }

    /**
     * Takes one snapshot on every copy at one point of the write stream: parks new writes and waits for
     * those in flight (after which every copy holds the same blocks), takes this copy's, records the
     * snapshot {@link SnapshotEntry.State#TAKING} so that every in-sync secondary takes its own, waits
     * (at most {@value #SNAPSHOT_WAIT_SECONDS} s) for their reports of that generation, resumes the writes
     * and records it {@link SnapshotEntry.State#TAKEN}. All or nothing: if a copy does not take it in
     * time (or refuses, or a copy is out of sync), the snapshot goes from the record, and so from every copy.
     */
    private void takeSnapshot(String volumeId, SnapshotEntry entry, ReplicatedStore store) {
        VolumeDesire current;
        try {
            current = desired(volumeId).orElse(null);
        } catch (ClusterException e) {
            LOG.warn("volume {}: cannot read its record to take snapshot {}: {}", volumeId, entry.id(), e.getMessage());
            return; // the record's next change brings it back
        }
        if (current == null || primaries.get(volumeId) != store
                || !current.snapshot(entry.id()).map(s -> s.state() == SnapshotEntry.State.WANTED).orElse(false)) {
            return; // no longer this node's to take, or taken or given up meanwhile
        }
        List<String> secondariesInSync = current.secondaries();
        boolean taken = false;
        try {
            if (!current.allInSync() || !store.inSyncNodes().containsAll(secondariesInSync)) {
                throw new ReplicationException("a copy is out of sync");
            }
            store.pauseForHandOver(SNAPSHOT_WAIT_SECONDS, TimeUnit.SECONDS);
            try {
                local.createSnapshot(entry.id(), Instant.ofEpochMilli(entry.createdAtMillis()), current.project(),
                        new CreateSnapshotRequest(entry.name(), volumeId));
                VolumeDesire taking = changeRecord(volumeId, d -> d.snapshot(entry.id()).isEmpty() ? null
                        : d.withSnapshot(entry.in(SnapshotEntry.State.TAKING)));
                // Each secondary's report of that generation, or its refusal, ends its part of the wait.
                taken = taking != null && cluster.volumes().await(() -> secondariesInSync.stream().allMatch(n -> {
                    VolumeReport report = reportOf(taking, n);
                    return report != null && report.generation() >= taking.generation();
                }), Duration.ofSeconds(SNAPSHOT_WAIT_SECONDS)) && secondariesInSync.stream()
                        .map(n -> reportOf(taking, n)).allMatch(r -> r != null && r.applied(taking.generation()));
            } finally {
                store.keepServing();
            }
            if (taken && changeRecord(volumeId, d -> d.snapshot(entry.id()).isEmpty() ? null
                    : d.withSnapshot(entry.in(SnapshotEntry.State.TAKEN))) != null) {
                LOG.info("volume {}: snapshot {} '{}' taken on every copy {}", volumeId, entry.id(), entry.name(),
                        current.nodeIds());
                return;
            }
            LOG.warn("volume {}: snapshot {} not taken by every copy within {} s; removing it", volumeId, entry.id(),
                    SNAPSHOT_WAIT_SECONDS);
        } catch (ReplicationException | ClusterException | RuntimeException e) {
            LOG.warn("volume {}: cannot take snapshot {}: {}; removing it", volumeId, entry.id(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            // Every copy, this one included, deletes what it took once the record no longer lists it.
            changeRecord(volumeId, d -> d.snapshot(entry.id()).isEmpty() ? null : d.withoutSnapshot(entry.id()));
        } catch (ClusterException | RuntimeException e) {
            LOG.warn("volume {}: cannot remove snapshot {} from its record: {}", volumeId, entry.id(), e.toString());
        }
    }

    /**
     * Reverts every copy to a snapshot at one point of the write stream: parks new writes and waits for
     * those in flight, reverts this copy, records the revert with the generation at which every in-sync
     * secondary reverts its own, waits (at most {@value #SNAPSHOT_WAIT_SECONDS} s) for their reports of it,
     * removes the revert from the record, and lets the writes go on. A secondary that did not report in
     * time may revert later or not at all: it leaves the in-sync set, to be compared whole when it
     * rejoins, before any write goes on. A revert recorded by a primary that stopped in the middle (some
     * copies reverted, some maybe not) makes every secondary leave the in-sync set the same way.
     */
    private void revertCopies(String volumeId, ReplicatedStore store) {
        VolumeDesire current;
        try {
            current = desired(volumeId).orElse(null);
        } catch (ClusterException e) {
            LOG.warn("volume {}: cannot read its record to revert it: {}", volumeId, e.getMessage());
            return; // the record's next change brings it back
        }
        if (current == null || primaries.get(volumeId) != store || current.revert() == null
                || current.revert().error() != null) {
            return;
        }
        RevertEntry wanted = current.revert();
        List<String> secondariesInSync = store.inSyncNodes();
        try {
            store.pauseForHandOver(SNAPSHOT_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ReplicationException e) {
            LOG.warn("volume {}: cannot revert it: {}", volumeId, e.getMessage());
            giveUpRevert(volumeId, wanted, "the volume's writes did not drain in time; retry");
            return;
        }
        try {
            List<String> unknown = secondariesInSync;
            if (wanted.generation() == 0) {
                try {
                    local.revert(current.project(), volumeId, wanted.snapshotId());
                } catch (RuntimeException e) {
                    LOG.warn("volume {}: cannot revert it to snapshot {}: {}", volumeId, wanted.snapshotId(), e.toString());
                    giveUpRevert(volumeId, wanted, e.getMessage());
                    return;
                }
                VolumeDesire reverting = changeRecord(volumeId, d -> wanted.equals(d.revert())
                        ? d.withRevert(new RevertEntry(wanted.snapshotId(), d.generation() + 1, null)) : null);
                if (reverting != null) {
                    cluster.volumes().await(() -> secondariesInSync.stream().allMatch(n -> {
                        VolumeReport report = reportOf(reverting, n);
                        return report != null && report.generation() >= reverting.generation();
                    }), Duration.ofSeconds(SNAPSHOT_WAIT_SECONDS));
                    unknown = secondariesInSync.stream().filter(n -> {
                        VolumeReport report = reportOf(reverting, n);
                        return report == null || !report.applied(reverting.generation());
                    }).toList();
                }
            }
            for (String nodeId : unknown) {
                LOG.warn("volume {}: the copy on {} did not report the revert to snapshot {}; it leaves the in-sync"
                        + " set and is compared whole when it rejoins", volumeId, nodeId, wanted.snapshotId());
                recorded(store.leaveOutUnknown(nodeId), volumeId, nodeId);
            }
            changeRecord(volumeId, d -> d.revert() != null && d.revert().snapshotId().equals(wanted.snapshotId())
                    ? d.withRevert(null) : null);
            List<String> left = unknown;
            LOG.info("volume {}: reverted to snapshot {} on this copy and {}", volumeId, wanted.snapshotId(),
                    secondariesInSync.stream().filter(n -> !left.contains(n)).toList());
        } catch (ClusterException | RuntimeException e) {
            LOG.warn("volume {}: the revert to snapshot {} did not complete: {}", volumeId, wanted.snapshotId(),
                    e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            store.keepServing();
        }
    }

    /** Writes why a revert that changed no copy was not made, for the API that asked to answer. */
    private void giveUpRevert(String volumeId, RevertEntry wanted, String why) {
        try {
            changeRecord(volumeId, d -> wanted.equals(d.revert())
                    ? d.withRevert(new RevertEntry(wanted.snapshotId(), 0, why)) : null);
        } catch (ClusterException | RuntimeException e) {
            LOG.warn("volume {}: cannot record why the revert was not made: {}", volumeId, e.toString());
        }
    }

    /**
     * The record as etcd has it now, not as this node's watch last delivered it: a snapshot or revert
     * already carried out must not be started again from a record the watch has not replaced yet.
     */
    private Optional<VolumeDesire> desired(String volumeId) throws ClusterException {
        return cluster.volumeTransactions().read(volumeId)
                .flatMap(stored -> ClusterJson.decode(volumeId, stored.json(), VolumeDesire.class));
    }

    /**
     * Writes the change {@code next} makes of the volume's record as it is in etcd (read again after losing
     * a race, {@value #RECORD_ATTEMPTS} attempts at most), fields this node does not know carried over; the
     * record written, or null when {@code next} said there was nothing to change (or the record is gone).
     */
    private VolumeDesire changeRecord(String volumeId, UnaryOperator<VolumeDesire> next) throws ClusterException {
        for (int attempt = 0; attempt < RECORD_ATTEMPTS; attempt++) {
            Optional<VolumeRecords.Stored> stored = cluster.volumeTransactions().read(volumeId);
            Optional<VolumeDesire> read = stored.flatMap(s -> ClusterJson.decode(volumeId, s.json(), VolumeDesire.class));
            VolumeDesire changed = read.map(next).orElse(null);
            if (changed == null) {
                return null;
            }
            if (cluster.volumeTransactions().update(volumeId, stored.get().modRevision(),
                    ClusterJson.encodeOver(stored.get().json(), changed), changed.project(), read.get().name(),
                    changed.name())) {
                return changed;
            }
        }
        throw new ClusterException("volume " + volumeId + ": its record kept changing under this change");
    }

    /** @return whether the copy on {@code nodeId} is in sync again */
    private boolean rejoin(VolumeDesire desire, String nodeId, ReplicatedStore store) {
        Optional<RemoteReplica> replica = connect(desire, nodeId, store.generation());
        if (replica.isEmpty()) {
            return false;
        }
        try {
            long copied = store.rejoin(replica.get(), REJOIN_STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            rejoinedBlocks.add(copied);
            LOG.info("volume {}: the copy on {} is in sync again ({} blocks copied)", desire.id(), nodeId, copied);
            return true;
        } catch (ReplicationException | RuntimeException e) {
            replica.get().close();
            LOG.warn("volume {}: the copy on {} could not rejoin: {}", desire.id(), nodeId, e.toString());
            return false;
        }
    }

    /** Runs {@code again} on the control thread {@value #RETRY_SECONDS} s from now, unless the node stops. */
    private void retryLater(Runnable again) {
        try {
            control.schedule(again, RETRY_SECONDS, TimeUnit.SECONDS);
        } catch (RejectedExecutionException stopping) {
            LOG.debug("not retrying: the node is stopping");
        }
    }

    private boolean live(String nodeId) {
        return cluster.liveMembers().stream().anyMatch(m -> m.nodeId().equals(nodeId));
    }

    /** Blocks this node copied, as a primary, to secondaries that came back: the cost of their returns. */
    long rejoinedBlocks() {
        return rejoinedBlocks.sum();
    }

    /** A secondary's copy grew: its primary learns the new size from the namespace. */
    void resized(String volumeId) {
        ReplicaSubsystem replica = secondaries.get(volumeId);
        if (replica != null) {
            replica.subsystem().namespaceResized(ReplicaSubsystem.NSID);
        }
    }

    /**
     * On a primary that is replaced or whose volume goes: its paths turn inaccessible (hosts are told, and
     * its commands are refused from the next one on), then it stops forwarding and closes the
     * secondaries' connections.
     */
    void closePrimary(String volumeId) {
        waitingSince.remove(volumeId);
        ReplicatedStore store;
        synchronized (anaStates) {
            handingOver.remove(volumeId);
            store = primaries.remove(volumeId);
            if (store != null) {
                target.anaState(VolumeManager.volumeNqn(volumeId), ANA_GROUP, AnaState.INACCESSIBLE);
            }
        }
        HostPath path = hostPaths.get(volumeId);
        if (path != null) {
            path.serveThrough(null);
        }
        if (store != null) {
            store.close();
        }
    }

    /** Once the volume is deleted here (its namespace hidden): its subsystem goes from the target. */
    void stopServingHosts(String volumeId) {
        if (hostPaths.remove(volumeId) != null) {
            target.removeSubsystem(VolumeManager.volumeNqn(volumeId));
        }
    }

    /** On a secondary, before its copy is deleted: the primary can reach it no more. */
    void stopServingSecondary(String volumeId) {
        primaryOf.remove(volumeId);
        ReplicaSubsystem replica = secondaries.remove(volumeId);
        if (replica != null) {
            target.removeSubsystem(replica.subsystem().nqn());
            replica.subsystem().removeNamespace(ReplicaSubsystem.NSID);
        }
    }

    /** Identify Controller's serial number holds 20 characters: the volume id's first hex digits. */
    private static String serial(String volumeId) {
        String digits = volumeId.replace("-", "");
        return digits.length() > 20 ? digits.substring(0, 20) : digits;
    }

    @Override
    public void close() {
        rejoins.shutdownNow();
        primaries.values().forEach(ReplicatedStore::close);
        primaries.clear();
        control.shutdownNow();
    }
}
