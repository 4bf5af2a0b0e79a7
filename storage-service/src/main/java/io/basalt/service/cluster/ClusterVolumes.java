package io.basalt.service.cluster;

import io.basalt.bridge.ChangeNotMadeException;
import io.basalt.bridge.InsufficientCapacityException;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.SnapshotNotFoundException;
import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.VolumeNotFoundException;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.CreateSnapshotGroupRequest;
import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.NodeStats;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Qos;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.SnapshotGroup;
import io.basalt.bridge.api.UpdateVolumeRequest;
import io.basalt.bridge.api.Volume;
import io.basalt.cluster.Cluster;
import io.basalt.cluster.ClusterException;
import io.basalt.cluster.membership.Member;
import io.basalt.cluster.placement.Placement;
import io.basalt.cluster.placement.PlacementException;
import io.basalt.cluster.volumes.VolumeRecords;
import io.basalt.service.volume.VolumeManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The volume API of a node in a cluster: every node answers for the whole cluster's volumes from its
 * watched copy of etcd, and writes changes to etcd as transactions; the node holding a volume carries
 * them out ({@link AssignedVolumes}) and reports, and the call answers once it has (at most
 * {@link #APPLY_TIMEOUT}). A replicated volume's snapshots are in its record and on every copy, and volumes
 * made from them are made on the nodes holding those copies; a single-copy volume's snapshots stay its node's,
 * made through that node's API.
 */
final class ClusterVolumes implements VolumeService {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterVolumes.class);
    /** How long a call waits for the holding node to carry a change out before answering without it. */
    static final Duration APPLY_TIMEOUT = Duration.ofSeconds(10);
    /**
     * The most snapshots a replicated volume keeps: they are listed in its record, which must stay within
     * what every node reads from etcd ({@code VolumeRecords.MAX_VALUE_BYTES}) with the most hosts too.
     */
    static final int MAX_SNAPSHOTS = 128;
    /** Names the snapshot taken to make a volume from a replicated volume, for the while it takes. */
    private static final String CLONE_SOURCE_PREFIX = "clone-source-";
    /**
     * How long a snapshot or revert of a replicated volume may take once asked for: the primary's turn to
     * apply the record, and its wait for the secondaries ({@link VolumeCopies#SNAPSHOT_WAIT_SECONDS}), with room.
     */
    static final Duration SNAPSHOT_TIMEOUT = APPLY_TIMEOUT.plusSeconds(2 * VolumeCopies.SNAPSHOT_WAIT_SECONDS);
    /** A change that lost this many races against others in a row gives up: the caller may retry. */
    private static final int MAX_ATTEMPTS = 5;
    /** Copies a volume may have, each in a failure domain of its own. */
    private static final int MAX_REPLICAS = 3;

    private final VolumeManager local;
    private final Supplier<Cluster> cluster;

    ClusterVolumes(VolumeManager local, Supplier<Cluster> cluster) {
        this.local = local;
        this.cluster = cluster;
    }

    @Override
    public Volume create(String project, CreateVolumeRequest request) {
        Cluster joined = joined();
        if (request.sourceVolumeId() != null) {
            return cloneOfVolume(joined, project, request);
        }
        return create(project, request, null);
    }

    /** @param sourceVolumeId the volume whose snapshot {@code request} names, when it is made for this volume */
    private Volume create(String project, CreateVolumeRequest request, String sourceVolumeId) {
        int replicas = request.replicas() == null ? 1 : request.replicas();
        if (replicas < 1 || replicas > MAX_REPLICAS) {
            throw new InvalidVolumeRequestException("replicas", "a volume keeps 1 to " + MAX_REPLICAS
                    + " replicas, not " + replicas);
        }
        Cluster joined = joined();
        List<String> nodeIds;
        long sizeBytes = request.sizeBytes();
        if (request.sourceSnapshotId() != null) {
            // Each node holding a copy of the snapshot makes its copy of the clone from it.
            VolumeDesire source = snapshotHolder(joined, project, request.sourceSnapshotId())
                    .orElseThrow(() -> new InvalidVolumeRequestException("sourceSnapshotId", "volumes made from a"
                            + " snapshot of a single-copy volume are not built for clusters yet; snapshot "
                            + request.sourceSnapshotId() + " is not one of a replicated volume"));
            if (source.snapshot(request.sourceSnapshotId()).filter(e -> e.state() == SnapshotEntry.State.TAKEN)
                    .isEmpty()) {
                throw new SnapshotNotFoundException(request.sourceSnapshotId()); // not on every copy (yet)
            }
            replicas = request.replicas() == null ? source.replicas() : replicas;
            if (replicas > source.nodeIds().size()) {
                throw new InvalidVolumeRequestException("replicas", "a volume made from snapshot "
                        + request.sourceSnapshotId() + " is made on the nodes holding its " + source.nodeIds().size()
                        + " copies, so it can have at most " + source.nodeIds().size() + " replicas, not " + replicas);
            }
            // The source's primary first (it serves the clone too), then the other live copies' nodes.
            List<String> holders = new ArrayList<>(List.of(source.holder()));
            source.secondaries().forEach(holders::add);
            nodeIds = holders.stream().filter(n -> live(joined, n)).limit(replicas).toList();
            if (nodeIds.size() < replicas) {
                throw new ChangeNotMadeException("only " + nodeIds.size() + " of the " + source.nodeIds().size()
                        + " nodes holding a copy of snapshot " + request.sourceSnapshotId() + " are up; " + replicas
                        + " replicas can be made once more of them are back", null);
            }
            if (sizeBytes == 0) {
                sizeBytes = source.snapshot(request.sourceSnapshotId()).orElseThrow().sizeBytes();
            }
        } else {
            try {
                nodeIds = Placement.choose(joined.members(), replicas, request.sizeBytes()).stream()
                        .map(Member::nodeId).toList();
            } catch (PlacementException e) {
                throw new InsufficientCapacityException("the cluster cannot place the volume: " + e.getMessage());
            }
        }
        VolumeManager.Identity identity = local.newIdentity();
        VolumeDesire desire = new VolumeDesire(identity.id(), project, request.name(), sizeBytes,
                request.compression(), replicas, nodeIds, List.copyOf(new LinkedHashSet<>(request.hosts())),
                request.authenticationRequired(), request.qos(), identity.uuid(), identity.nguid(), 1, null, nodeIds,
                List.of(), request.sourceSnapshotId(), sourceVolumeId, null);
        boolean created = etcd(() -> joined.volumeTransactions().create(desire.id(), project, desire.name(),
                ClusterJson.encode(desire)));
        if (!created) {
            throw new VolumeConflictException("name", "a volume named '" + request.name() + "' already exists");
        }
        LOG.info("volume {} '{}' of project {} placed on node(s) {}", desire.id(), desire.name(), project,
                desire.nodeIds());
        Optional<VolumeReport> report = awaitReports(joined, desire, 1);
        if (report.isPresent() && report.get().error() != null) {
            // The holder refused: the volume is not made, so its record goes too (and from this node's
            // copy before it answers, so that the caller's next read here does not show it).
            etcd(() -> joined.volumeTransactions().read(desire.id())
                    .map(stored -> etcd(() -> joined.volumeTransactions().delete(desire.id(), stored.modRevision(),
                            project, desire.name()))).orElse(true));
            await(() -> joined.volumes().await(() -> !joined.volumes().desired().containsKey(desire.id()),
                    APPLY_TIMEOUT));
            throw refusal(report.get());
        }
        return view(joined, desire, report.orElse(null));
    }

    /**
     * A volume made from a replicated volume: from a snapshot of it taken for the purpose (on every copy at
     * one point of its writes), deleted again once every copy of the new volume is made, or once it is
     * certain that no record of the new volume needs it.
     */
    private Volume cloneOfVolume(Cluster joined, String project, CreateVolumeRequest request) {
        if (request.sourceSnapshotId() != null) {
            throw new InvalidVolumeRequestException("sourceVolumeId", "give sourceSnapshotId or sourceVolumeId, not both");
        }
        VolumeDesire source = desire(joined, project, request.sourceVolumeId())
                .orElseThrow(() -> new VolumeNotFoundException(request.sourceVolumeId()));
        if (source.replicas() == 1) {
            throw new InvalidVolumeRequestException("sourceVolumeId", "volumes made from a single-copy volume are"
                    + " not built for clusters yet; volume " + source.id() + " has 1 replica");
        }
        Snapshot point = createSnapshot(project, new CreateSnapshotRequest(CLONE_SOURCE_PREFIX + UUID.randomUUID(),
                source.id()));
        Volume made;
        try {
            made = create(project, new CreateVolumeRequest(request.name(), request.sizeBytes(), request.hosts(),
                    request.compression(), request.replicas(), point.id(), null, request.authenticationRequired(),
                    request.qos()), source.id());
        } catch (RuntimeException e) {
            if (list(project, request.name()).stream().noneMatch(v -> point.id().equals(v.sourceSnapshotId())
                    || source.id().equals(v.sourceVolumeId()))) {
                deleteCloneSource(project, point, request.name());
            }
            throw e;
        }
        // A copy still to be made needs the snapshot: it stays (listed) until someone deletes it.
        desire(joined, project, made.id()).filter(d -> awaitReports(joined, d, 1).isPresent()
                && reportsOn(joined, d.nodeIds().stream().map(n -> VolumeReport.stateId(d, n)).toList(), 1).stream()
                .allMatch(r -> r.applied(1))).ifPresentOrElse(d -> deleteCloneSource(project, point, request.name()),
                () -> LOG.warn("volume {} '{}': not every copy was made from snapshot {} yet; the snapshot stays",
                        made.id(), request.name(), point.id()));
        return made;
    }

    private void deleteCloneSource(String project, Snapshot point, String cloneName) {
        try {
            deleteSnapshot(project, point.id());
        } catch (RuntimeException e) {
            LOG.warn("volume {}: the snapshot {} taken to make volume '{}' from it could not be deleted ({});"
                    + " delete it through the API", point.sourceVolumeId(), point.id(), cloneName, e.getMessage());
        }
    }

    @Override
    public List<Volume> list(String project, String name) {
        Cluster joined = joined();
        Map<String, VolumeRecords.Stored> states = joined.volumes().states();
        List<Volume> volumes = new ArrayList<>();
        joined.volumes().desired().forEach((id, stored) -> ClusterJson.decode(id, stored.json(), VolumeDesire.class)
                .filter(d -> d.project().equals(project) && (name == null || d.name().equals(name)))
                .ifPresent(d -> volumes.add(view(joined, d, report(id, states.get(id))))));
        volumes.sort(Comparator.comparing(Volume::name).thenComparing(Volume::id));
        return volumes;
    }

    @Override
    public Optional<Volume> find(String project, String id) {
        Cluster joined = joined();
        return desire(joined, project, id).map(d -> view(joined, d, report(id, joined.volumes().states().get(id))));
    }

    @Override
    public Volume extend(String project, String id, long sizeBytes) {
        return change(project, id, d -> {
            if (sizeBytes < d.sizeBytes()) {
                throw new InvalidVolumeRequestException("sizeBytes", "volumes cannot shrink: " + sizeBytes
                        + " is smaller than the current " + d.sizeBytes() + " bytes");
            }
            if (sizeBytes != d.sizeBytes() && d.snapshots().stream().anyMatch(e -> e.state() != SnapshotEntry.State.TAKEN)) {
                // Copies that took a snapshot before and after the extend would hold it at different sizes.
                throw new ChangeNotMadeException("volume " + id + " cannot grow while a snapshot of it is being"
                        + " taken; it can once that is done", null);
            }
            if (sizeBytes != d.sizeBytes() && !d.inSyncNodes().containsAll(d.nodeIds())) {
                // The copy that is out has a fixed size and a dirty map of that size until it rejoins.
                throw new ChangeNotMadeException("volume " + id + " cannot grow while its copy on node(s) "
                        + d.nodeIds().stream().filter(n -> !d.inSyncNodes().contains(n)).toList()
                        + " is out of sync; it can once every copy is in sync again", null);
            }
            return d.next(d.name(), sizeBytes, d.compression(), d.hosts(), d.qos());
        });
    }

    @Override
    public Volume update(String project, String id, UpdateVolumeRequest request) {
        return change(project, id, d -> d.next(request.name() == null ? d.name() : request.name(), d.sizeBytes(),
                request.compression() == null ? d.compression() : request.compression(), d.hosts(), d.qos()));
    }

    @Override
    public Volume setQos(String project, String id, Qos qos) {
        return change(project, id, d -> d.next(d.name(), d.sizeBytes(), d.compression(), d.hosts(), qos));
    }

    @Override
    public Volume setHosts(String project, String id, List<String> hosts) {
        return change(project, id, d -> d.next(d.name(), d.sizeBytes(), d.compression(),
                List.copyOf(new LinkedHashSet<>(hosts)), d.qos()));
    }

    @Override
    public Volume addHost(String project, String id, String hostNqn) {
        return change(project, id, d -> d.next(d.name(), d.sizeBytes(), d.compression(),
                VolumeService.withHost(id, d.hosts(), hostNqn), d.qos()));
    }

    @Override
    public Volume removeHost(String project, String id, String hostNqn) {
        return change(project, id, d -> d.next(d.name(), d.sizeBytes(), d.compression(),
                d.hosts().stream().filter(h -> !h.equals(hostNqn)).toList(), d.qos()));
    }

    @Override
    public void delete(String project, String id) {
        Cluster joined = joined();
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            VolumeRecords.Stored stored = etcd(() -> joined.volumeTransactions().read(id))
                    .orElseThrow(() -> new VolumeNotFoundException(id));
            VolumeDesire desire = decodeOwned(id, stored, project);
            requireHolderLive(joined, desire);
            if (!desire.snapshots().isEmpty()) {
                // Its snapshots are listed in its record only: they would be lost with it.
                throw new VolumeConflictException("id", "volume " + id + " has " + desire.snapshots().size()
                        + " snapshot(s); delete them first");
            }
            if (etcd(() -> joined.volumeTransactions().delete(id, stored.modRevision(), project, desire.name()))) {
                LOG.info("volume {} '{}' of project {} deleted; node(s) {} remove it", id, desire.name(), project,
                        desire.nodeIds());
                // A node that is down removes its copy (and its report) when it is back.
                List<String> reportsOfLiveCopies = desire.nodeIds().stream().filter(n -> live(joined, n))
                        .map(n -> VolumeReport.stateId(desire, n)).toList();
                await(() -> joined.volumes().await(() -> reportsOfLiveCopies.stream()
                        .noneMatch(joined.volumes().states()::containsKey), APPLY_TIMEOUT));
                return;
            }
        }
        throw new ChangeNotMadeException("volume " + id + " kept changing under this deletion", null);
    }

    /**
     * Writes the change {@code next} makes of the current desired state (compared on its mod revision, read
     * again after losing a race), then waits for the holder. A change the holder refuses is undone.
     */
    private Volume change(String project, String id, UnaryOperator<VolumeDesire> next) {
        Cluster joined = joined();
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            VolumeRecords.Stored stored = etcd(() -> joined.volumeTransactions().read(id))
                    .orElseThrow(() -> new VolumeNotFoundException(id));
            VolumeDesire current = decodeOwned(id, stored, project);
            if (current.revert() != null && current.revert().error() == null) {
                // Its copies are being reverted, writes parked: nothing else changes until that is over.
                throw new ChangeNotMadeException("volume " + id + " is being reverted to snapshot "
                        + current.revert().snapshotId() + "; retry once it is", null);
            }
            VolumeDesire wanted = next.apply(current);
            if (wanted.sameAs(current)) {
                return view(joined, current, report(id, joined.volumes().states().get(id)));
            }
            requireInSyncCopiesLive(joined, current);
            if (!etcd(() -> joined.volumeTransactions().update(id, stored.modRevision(),
                    ClusterJson.encodeOver(stored.json(), wanted),
                    project, current.name(), wanted.name()))) {
                if (!current.name().equals(wanted.name()) && list(project, wanted.name()).stream()
                        .anyMatch(v -> !v.id().equals(id))) {
                    throw new VolumeConflictException("name", "a volume named '" + wanted.name() + "' already exists");
                }
                continue;
            }
            Optional<VolumeReport> report = awaitReports(joined, wanted, wanted.generation());
            if (report.isPresent() && report.get().error() != null) {
                undo(joined, id, current);
                throw refusal(report.get());
            }
            return view(joined, wanted, report.orElse(null));
        }
        throw new ChangeNotMadeException("volume " + id + " kept changing under this change", null);
    }

    /**
     * Puts back what a node refused, as a newer generation of the record as it is now, so the record says
     * what the nodes have: the in-sync set and generation the primary may have changed meanwhile are
     * kept (writing back those of the refused record would list a copy that left as in sync again and
     * reuse a generation).
     */
    private void undo(Cluster joined, String id, VolumeDesire before) {
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            Optional<VolumeRecords.Stored> read = etcd(() -> joined.volumeTransactions().read(id));
            Optional<VolumeDesire> latest = read.flatMap(stored -> ClusterJson.decode(id, stored.json(),
                    VolumeDesire.class));
            if (latest.isEmpty()) {
                return; // deleted meanwhile: nothing to put back
            }
            VolumeDesire restored = latest.get().next(before.name(), before.sizeBytes(), before.compression(),
                    before.hosts(), before.qos());
            if (etcd(() -> joined.volumeTransactions().update(id, read.get().modRevision(),
                    ClusterJson.encodeOver(read.get().json(), restored), before.project(), latest.get().name(),
                    before.name()))) {
                return;
            }
        }
        LOG.warn("volume {}: the refused change could not be undone, the record kept changing", id);
    }

    private static void requireHolderLive(Cluster joined, VolumeDesire desire) {
        if (!live(joined, desire.holder())) {
            throw new ChangeNotMadeException("node " + desire.holder() + ", which holds volume " + desire.id()
                    + ", is down: the volume can change once it is back", null);
        }
    }

    /** A change is carried out by every in-sync copy: all of their nodes must be there to do it. */
    private static void requireInSyncCopiesLive(Cluster joined, VolumeDesire desire) {
        requireHolderLive(joined, desire);
        for (String nodeId : desire.inSyncNodes()) {
            if (!live(joined, nodeId)) {
                throw new ChangeNotMadeException("node " + nodeId + ", which holds a copy of volume " + desire.id()
                        + ", is down: the volume can change once it is back or out of the in-sync set", null);
            }
        }
    }

    private static boolean live(Cluster joined, String nodeId) {
        return joined.liveMembers().stream().anyMatch(m -> m.nodeId().equals(nodeId));
    }

    private static VolumeDesire decodeOwned(String id, VolumeRecords.Stored stored, String project) {
        return ClusterJson.decode(id, stored.json(), VolumeDesire.class).filter(d -> d.project().equals(project))
                .orElseThrow(() -> new VolumeNotFoundException(id));
    }

    private static Optional<VolumeDesire> desire(Cluster joined, String project, String id) {
        VolumeRecords.Stored stored = joined.volumes().desired().get(id);
        return stored == null ? Optional.empty()
                : ClusterJson.decode(id, stored.json(), VolumeDesire.class).filter(d -> d.project().equals(project));
    }

    static VolumeReport report(String id, VolumeRecords.Stored stored) {
        return stored == null ? null : ClusterJson.decode(id, stored.json(), VolumeReport.class).orElse(null);
    }

    /**
     * The reports on {@code generation} of every in-sync copy: the first refusal among them, else the
     * primary's report; empty if the primary's did not come in time.
     */
    private static Optional<VolumeReport> awaitReports(Cluster joined, VolumeDesire desire, long generation) {
        List<String> stateIds = desire.inSyncNodes().stream().map(n -> VolumeReport.stateId(desire, n)).toList();
        await(() -> joined.volumes().await(() -> {
            List<VolumeReport> reports = reportsOn(joined, stateIds, generation);
            return reports.size() == stateIds.size() || reports.stream().anyMatch(r -> r.error() != null);
        }, APPLY_TIMEOUT));
        List<VolumeReport> reports = reportsOn(joined, stateIds, generation);
        return reports.stream().filter(r -> r.error() != null).findFirst()
                .or(() -> reports.stream().filter(r -> r.nodeId().equals(desire.holder())).findFirst());
    }

    private static List<VolumeReport> reportsOn(Cluster joined, List<String> stateIds, long generation) {
        Map<String, VolumeRecords.Stored> states = joined.volumes().states();
        return stateIds.stream().map(stateId -> report(stateId, states.get(stateId)))
                .filter(r -> r != null && r.generation() >= generation).toList();
    }

    private static RuntimeException refusal(VolumeReport report) {
        String message = "node " + report.nodeId() + ": " + report.error();
        return switch (report.errorKind()) {
            case INVALID -> new InvalidVolumeRequestException(report.errorField(), message);
            case CAPACITY -> new InsufficientCapacityException(message);
            case CONFLICT -> new VolumeConflictException(report.errorField(), message);
            case NOT_MADE -> new ChangeNotMadeException(message, null);
            case FAILED -> new IllegalStateException(message);
        };
    }

    /**
     * The volume as the API shows it: its desired state, the namespace its holder made (NSID 0 and no NQN
     * until the holder has reported), the compression the holder chose when the request left it open, and
     * the holder's portals. Space is known only to the holder: other nodes leave it out.
     */
    private Volume view(Cluster joined, VolumeDesire desire, VolumeReport report) {
        String self = joined.self().nodeId();
        List<Portal> portals = portals(joined, desire);
        Optional<Volume> held = desire.holder().equals(self) ? local.find(desire.project(), desire.id()) : Optional.empty();
        boolean made = report != null && report.nsid() > 0;
        return new Volume(desire.id(), desire.name(), desire.project(), desire.sizeBytes(),
                desire.compression() != null ? desire.compression() : report != null && report.compression(),
                desire.replicas(),
                made ? report.nqn() : null, made ? report.nsid() : 0, desire.uuid(), desire.nguid(), desire.hosts(),
                portals, desire.sourceVolumeId() == null ? desire.sourceSnapshotId() : null, desire.sourceVolumeId(),
                held.map(Volume::space).orElse(null), desire.requireAuthentication(), desire.qos());
    }

    /**
     * The portals where hosts reach the volume: every copy's node's, the primary's first (the others in
     * the order of {@code nodeIds}). A replicated volume is shown in one subsystem on each of them, the
     * primary's path ANA optimized and the others inaccessible, so a host with multipath connects to all.
     */
    static List<Portal> portals(Cluster joined, VolumeDesire desire) {
        List<String> nodes = new ArrayList<>();
        nodes.add(desire.holder());
        desire.nodeIds().stream().filter(id -> !id.equals(desire.holder())).forEach(nodes::add);
        List<Portal> portals = new ArrayList<>();
        for (String nodeId : nodes) {
            joined.members().stream().filter(m -> m.nodeId().equals(nodeId))
                    .flatMap(m -> m.description().portals().stream())
                    .forEach(p -> portals.add(new Portal(p.transport(), p.address(), p.port())));
        }
        return portals;
    }

    /**
     * A single-copy volume's snapshots are made by the node that holds it; another node says which one to
     * ask. A replicated volume's snapshots and reverts are in its record, made on every copy
     * ({@link #createSnapshot}, {@link #revert}); its snapshot groups are not built yet.
     */
    private void requireHeldHere(String project, String volumeId, String field, String what) {
        Cluster joined = joined();
        desire(joined, project, volumeId).filter(d -> d.replicas() > 1).ifPresent(d -> {
            throw new InvalidVolumeRequestException(field, "volume " + volumeId + " has " + d.replicas()
                    + " replicas: " + what + " of replicated volumes are not built yet");
        });
        desire(joined, project, volumeId).filter(d -> !d.holder().equals(joined.self().nodeId())).ifPresent(d -> {
            String api = joined.members().stream().filter(m -> m.nodeId().equals(d.holder()))
                    .map(m -> m.description().apiAddress()).findFirst().orElse("unknown");
            throw new InvalidVolumeRequestException(field, "volume " + volumeId + " is held by node " + d.holder()
                    + ": its snapshots are made and listed through that node's API, " + api);
        });
    }

    /**
     * A replicated volume's snapshot is asked for in its record, through any node; its primary takes it on
     * every copy at one point of the write stream ({@link VolumeCopies#carryOutSnapshots}) and the call
     * answers once every copy has it ({@link SnapshotEntry.State#TAKEN}), or fails if the record lost it
     * (a copy did not take it in time) or it took longer than {@link #SNAPSHOT_TIMEOUT} (then it is removed).
     */
    @Override
    public Snapshot createSnapshot(String project, CreateSnapshotRequest request) {
        Cluster joined = joined();
        Optional<VolumeDesire> source = desire(joined, project, request.sourceVolumeId());
        if (source.isEmpty() || source.get().replicas() == 1) {
            requireHeldHere(project, request.sourceVolumeId(), "sourceVolumeId", "snapshots");
            return local.createSnapshot(project, request);
        }
        if (!local.listSnapshots(project, request.name()).isEmpty() || snapshotNamed(joined, project, request.name())) {
            throw new VolumeConflictException("name", "a snapshot named '" + request.name() + "' already exists");
        }
        String snapshotId = UUID.randomUUID().toString();
        long askedAt = System.currentTimeMillis();
        String volumeId = source.get().id();
        change(project, volumeId, d -> {
            requireEveryCopyInSync(d, "take a snapshot of it");
            if (d.snapshots().size() >= MAX_SNAPSHOTS) {
                throw new VolumeConflictException("sourceVolumeId", "volume " + volumeId + " has " + MAX_SNAPSHOTS
                        + " snapshots, the most a replicated volume keeps (they are listed in its record in etcd);"
                        + " delete one first");
            }
            return d.withSnapshot(new SnapshotEntry(snapshotId, request.name(), d.sizeBytes(), askedAt,
                    SnapshotEntry.State.WANTED));
        });
        await(() -> joined.volumes().await(() -> desire(joined, project, volumeId).flatMap(d -> d.snapshot(snapshotId))
                .map(e -> e.state() == SnapshotEntry.State.TAKEN).orElse(true), SNAPSHOT_TIMEOUT));
        Optional<SnapshotEntry> taken = desire(joined, project, volumeId).flatMap(d -> d.snapshot(snapshotId));
        if (taken.isPresent() && taken.get().state() == SnapshotEntry.State.TAKEN) {
            return snapshotView(volumeId, project, taken.get());
        }
        if (taken.isPresent()) {
            change(project, volumeId, d -> d.snapshot(snapshotId).isPresent() ? d.withoutSnapshot(snapshotId) : d);
        }
        throw new ChangeNotMadeException("snapshot '" + request.name() + "' of volume " + volumeId + " was not taken"
                + " on every copy in time (the primary's log says why); no copy keeps it", null);
    }

    /** Snapshots of replicated volumes only once every copy holds them; a single-copy volume's of this node. */
    @Override
    public List<Snapshot> listSnapshots(String project, String name) {
        Cluster joined = joined();
        List<Snapshot> snapshots = new ArrayList<>(local.listSnapshots(project, name).stream()
                .filter(s -> !replicatedHere(project, s.sourceVolumeId())).toList());
        replicatedSnapshots(joined, project).forEach((entry, volume) -> {
            if (name == null || entry.name().equals(name)) {
                snapshots.add(snapshotView(volume.id(), project, entry));
            }
        });
        snapshots.sort(Comparator.comparing(Snapshot::createdAt).thenComparing(Snapshot::id));
        return snapshots;
    }

    @Override
    public Optional<Snapshot> findSnapshot(String project, String id) {
        Cluster joined = joined();
        Optional<Snapshot> replicated = replicatedSnapshots(joined, project).entrySet().stream()
                .filter(e -> e.getKey().id().equals(id)).findFirst()
                .map(e -> snapshotView(e.getValue().id(), project, e.getKey()));
        return replicated.or(() -> local.findSnapshot(project, id)
                .filter(s -> !replicatedHere(project, s.sourceVolumeId())));
    }

    /** A replicated volume's snapshot goes from its record; every copy deletes its own (one down, when back). */
    @Override
    public void deleteSnapshot(String project, String id) {
        Optional<VolumeDesire> holder = snapshotHolder(joined(), project, id);
        if (holder.isEmpty()) {
            local.deleteSnapshot(project, id);
            return;
        }
        change(project, holder.get().id(), d -> d.snapshot(id).isPresent() ? d.withoutSnapshot(id) : d);
    }

    /**
     * A replicated volume is reverted on every copy: the revert is asked for in its record, its primary
     * carries it out with the writes parked ({@link VolumeCopies#carryOutSnapshots}) and removes it once
     * every in-sync copy reported it; the call answers then (at most {@link #SNAPSHOT_TIMEOUT}).
     */
    @Override
    public Volume revert(String project, String volumeId, String snapshotId) {
        Cluster joined = joined();
        Optional<VolumeDesire> volume = desire(joined, project, volumeId);
        if (volume.isEmpty() || volume.get().replicas() == 1) {
            requireHeldHere(project, volumeId, "volumeId", "reverts");
            local.revert(project, volumeId, snapshotId);
            return find(project, volumeId).orElseThrow(() -> new VolumeNotFoundException(volumeId));
        }
        if (volume.get().snapshot(snapshotId).filter(e -> e.state() == SnapshotEntry.State.TAKEN).isEmpty()) {
            throw snapshotHolder(joined, project, snapshotId).isPresent()
                    ? new InvalidVolumeRequestException("snapshotId", "snapshot " + snapshotId
                            + " was not taken of volume " + volumeId)
                    : new SnapshotNotFoundException(snapshotId);
        }
        RevertEntry wanted = new RevertEntry(snapshotId, 0, null);
        change(project, volumeId, d -> {
            requireEveryCopyInSync(d, "revert it");
            return d.withRevert(wanted);
        });
        await(() -> joined.volumes().await(() -> desire(joined, project, volumeId)
                .map(d -> d.revert() == null || d.revert().error() != null).orElse(true), SNAPSHOT_TIMEOUT));
        Optional<RevertEntry> left = desire(joined, project, volumeId).map(VolumeDesire::revert);
        if (left.isPresent()) {
            String why = left.get().error();
            if (why != null) {
                clearRevert(joined, volumeId, left.get());
            }
            throw new ChangeNotMadeException("volume " + volumeId + " was not reverted to snapshot " + snapshotId
                    + (why != null ? ": " + why : " in time; its primary may still do it"), null);
        }
        return find(project, volumeId).orElseThrow(() -> new VolumeNotFoundException(volumeId));
    }

    /** Removes a revert its primary gave up, changing nothing else. */
    private static void clearRevert(Cluster joined, String volumeId, RevertEntry given) {
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            Optional<VolumeRecords.Stored> read = etcd(() -> joined.volumeTransactions().read(volumeId));
            Optional<VolumeDesire> latest = read.flatMap(s -> ClusterJson.decode(volumeId, s.json(), VolumeDesire.class));
            if (latest.isEmpty() || !given.equals(latest.get().revert())) {
                return;
            }
            VolumeDesire cleared = latest.get().withRevert(null);
            if (etcd(() -> joined.volumeTransactions().update(volumeId, read.get().modRevision(),
                    ClusterJson.encodeOver(read.get().json(), cleared), cleared.project(), cleared.name(),
                    cleared.name()))) {
                return;
            }
        }
    }

    @Override
    public SnapshotGroup createSnapshotGroup(String project, CreateSnapshotGroupRequest request) {
        request.volumeIds().forEach(id -> requireHeldHere(project, id, "volumeIds", "snapshot groups"));
        return local.createSnapshotGroup(project, request);
    }

    @Override
    public List<SnapshotGroup> listSnapshotGroups(String project, String name) {
        return local.listSnapshotGroups(project, name);
    }

    @Override
    public Optional<SnapshotGroup> findSnapshotGroup(String project, String id) {
        return local.findSnapshotGroup(project, id);
    }

    @Override
    public void deleteSnapshotGroup(String project, String id) {
        local.deleteSnapshotGroup(project, id);
    }

    @Override
    public NodeStats stats() {
        return local.stats();
    }

    /** The taken snapshots of the project's replicated volumes, each with its volume. */
    private static Map<SnapshotEntry, VolumeDesire> replicatedSnapshots(Cluster joined, String project) {
        Map<SnapshotEntry, VolumeDesire> snapshots = new LinkedHashMap<>();
        joined.volumes().desired().forEach((id, stored) -> ClusterJson.decode(id, stored.json(), VolumeDesire.class)
                .filter(d -> d.project().equals(project) && d.replicas() > 1)
                .ifPresent(d -> d.snapshots().stream().filter(e -> e.state() == SnapshotEntry.State.TAKEN)
                        .forEach(e -> snapshots.put(e, d))));
        return snapshots;
    }

    /** The replicated volume whose record lists snapshot {@code snapshotId}, taken or not. */
    private static Optional<VolumeDesire> snapshotHolder(Cluster joined, String project, String snapshotId) {
        return joined.volumes().desired().entrySet().stream()
                .flatMap(e -> ClusterJson.decode(e.getKey(), e.getValue().json(), VolumeDesire.class).stream())
                .filter(d -> d.project().equals(project) && d.snapshot(snapshotId).isPresent()).findFirst();
    }

    /** Whether a replicated volume's record lists a snapshot of that name, taken or being taken. */
    private static boolean snapshotNamed(Cluster joined, String project, String name) {
        return joined.volumes().desired().entrySet().stream()
                .flatMap(e -> ClusterJson.decode(e.getKey(), e.getValue().json(), VolumeDesire.class).stream())
                .filter(d -> d.project().equals(project))
                .anyMatch(d -> d.snapshots().stream().anyMatch(e -> e.name().equals(name)));
    }

    /** Whether this node's snapshot is its copy of a replicated volume's, which the volume's record lists. */
    private boolean replicatedHere(String project, String volumeId) {
        return local.find(project, volumeId).map(v -> v.replicas() > 1).orElse(false);
    }

    /** A replicated volume's snapshot as the API shows it; its space is known only to a node holding a copy. */
    private Snapshot snapshotView(String volumeId, String project, SnapshotEntry entry) {
        return new Snapshot(entry.id(), entry.name(), project, volumeId, entry.sizeBytes(),
                Instant.ofEpochMilli(entry.createdAtMillis()),
                local.findSnapshot(project, entry.id()).map(Snapshot::space).orElse(null));
    }

    /** Snapshots (and reverts) are made on every copy: a copy that is out would miss them. */
    private static void requireEveryCopyInSync(VolumeDesire desire, String what) {
        if (!desire.allInSync()) {
            throw new ChangeNotMadeException("cannot " + what + ": the copy of volume " + desire.id() + " on node(s) "
                    + desire.nodeIds().stream().filter(n -> !desire.inSyncNodes().contains(n)).toList()
                    + " is out of sync; it can once every copy is in sync again", null);
        }
    }

    private Cluster joined() {
        Cluster joined = cluster.get();
        if (joined == null) {
            throw new ChangeNotMadeException("this node is joining its cluster", null);
        }
        return joined;
    }

    /** An etcd call on behalf of the API; etcd not answering is "not made, retry" (503), never a half change. */
    private static <T> T etcd(EtcdCall<T> call) {
        try {
            return call.run();
        } catch (ClusterException e) {
            throw new ChangeNotMadeException(e.getMessage(), e);
        }
    }

    private static void await(Waiting waiting) {
        try {
            waiting.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChangeNotMadeException("interrupted while waiting for the volume's node", e);
        }
    }

    private interface EtcdCall<T> {
        T run() throws ClusterException;
    }

    private interface Waiting {
        boolean run() throws InterruptedException;
    }
}
