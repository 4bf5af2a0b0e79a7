package io.basalt.service.volume;

import io.basalt.bridge.ChangeNotMadeException;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.SnapshotGroupNotFoundException;
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
import io.basalt.nvmetcp.nvmet.CntlidRange;
import io.basalt.nvmetcp.nvmet.Subsystem;
import io.basalt.service.dataplane.QosLimits;
import io.basalt.service.engine.BlockStore;
import io.basalt.service.engine.ControlCancelledException;
import io.basalt.service.engine.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * The node's volumes and snapshots: the {@link VolumeService} the API calls. It decides and orders
 * changes; the parts do the work: the {@link VolumeCatalog} records them, the {@link Engine} holds
 * the blocks, the {@link NamespaceExporter} shows volumes to hosts, {@link NsidAllocator} and
 * {@link CapacityPolicy} decide NSIDs and sizes, {@link VolumeViews} answers in API types.
 *
 * <p>A change is made in the engine first (durably), then recorded, then shown to hosts; a crash
 * between the first two steps leaves an engine map nobody names, which the next start deletes. A
 * failed change leaves nothing half-made; one the engine cancelled answers {@link ChangeNotMadeException}.
 * Changes are serialised; reads do not lock.
 */
public final class VolumeManager implements VolumeService, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeManager.class);

    private final Defaults defaults;
    private final Engine engine;
    private final VolumeCatalog catalog;
    private final NamespaceExporter exporter;
    private final NsidAllocator nsids;
    private final CapacityPolicy capacity;
    private final VolumeViews views;
    private final SecureRandom random = new SecureRandom();
    private final Object mutations = new Object();
    /** Guarded by {@link #mutations}. */
    private boolean closed;
    /** Hosts with a DH-HMAC-CHAP secret; guarded by {@link #mutations}. None until the node says. */
    private Predicate<String> authenticating = host -> false;

    /**
     * Settings for new volumes.
     *
     * @param blockSize   logical block size of volumes created from now on (existing ones keep theirs)
     * @param compression whether a volume is compressed when the request does not say
     */
    public record Defaults(int blockSize, boolean compression) {
    }

    private VolumeManager(NodeStore store, Defaults defaults, Supplier<List<Portal>> portals,
                          VolumeObservers observers) {
        RegistryContent content = store.content();
        this.defaults = defaults;
        this.engine = store.engine();
        this.catalog = new VolumeCatalog(store.registry(), content);
        this.exporter = new NamespaceExporter(content.subsystemNqn(), engine, observers);
        Subsystem subsystem = exporter.subsystem();
        this.nsids = new NsidAllocator(Subsystem.MAX_NAMESPACES, content.nextNsid(),
                content.volumes().stream().map(VolumeRecord::nsid).collect(Collectors.toSet()),
                subsystem::controllerEpoch, subsystem::oldestControllerEpoch);
        this.capacity = new CapacityPolicy(engine);
        this.views = new VolumeViews(engine, content.subsystemNqn(), portals);
    }

    /**
     * Exposes every registered volume of the node's store as a namespace of {@link #subsystem()},
     * completing what a crash interrupted.
     *
     * @param portals where hosts reach the subsystem, asked each time a volume is shown
     */
    public static VolumeManager open(NodeStore store, Defaults defaults, Supplier<List<Portal>> portals,
                                     VolumeObservers observers) throws IOException {
        VolumeManager manager = new VolumeManager(store, defaults, portals, observers);
        manager.restore();
        return manager;
    }

    /** The node's one subsystem, to be added to the NVMe target. */
    public Subsystem subsystem() {
        return exporter.subsystem();
    }

    /** The storage engine, for metrics. */
    public Engine engine() {
        return engine;
    }

    @Override
    public Volume create(String project, CreateVolumeRequest request) {
        if (request.replicas() != null && request.replicas() != 1) {
            throw new InvalidVolumeRequestException("replicas",
                    "this node is not part of a cluster and keeps exactly 1 replica");
        }
        return create(newIdentity(), project, request);
    }

    /** A fresh id, namespace UUID and NGUID. */
    public Identity newIdentity() {
        return new Identity(UUID.randomUUID().toString(), UUID.randomUUID(), randomNguid());
    }

    /**
     * What names a volume to the API and to hosts.
     *
     * @param id    the volume's id in the API
     * @param uuid  the namespace UUID hosts see
     * @param nguid the namespace NGUID hosts see, 32 lower-case hex digits
     */
    public record Identity(String id, UUID uuid, String nguid) {
    }

    /**
     * Creates a volume whose names were chosen elsewhere: by the cluster, which records them before the
     * node holding the volume makes it. A copy of a replicated volume ({@code replicas} 2 or 3) is made
     * but not shown to hosts, now or when the node restarts: the cluster serves it, through
     * {@link #serve} on the primary or the node's replica subsystem on a secondary.
     */
    public Volume create(Identity identity, String project, CreateVolumeRequest request) {
        synchronized (mutations) {
            checkNameFree(project, request.name());
            if (catalog.volume(identity.id()) != null) {
                throw new VolumeConflictException("id", "a volume with id " + identity.id() + " already exists");
            }
            int replicas = request.replicas() == null ? 1 : request.replicas();
            if (request.sourceSnapshotId() != null && request.sourceVolumeId() != null) {
                throw new InvalidVolumeRequestException("sourceVolumeId",
                        "give sourceSnapshotId or sourceVolumeId, not both");
            }
            boolean compression = request.compression() == null ? defaults.compression() : request.compression();
            Source source = source(project, request);
            long size = request.sizeBytes() == 0 && source != null ? source.sizeBytes() : request.sizeBytes();
            int blockSize = source != null ? source.blockSize() : defaults.blockSize();
            CapacityPolicy.checkSize(size, blockSize, source == null ? 0 : source.sizeBytes());
            capacity.checkProvisioning(catalog.provisionedBytes(), size);
            int nsid = nsids.allocate();
            if (nsid < 0) {
                throw new VolumeConflictException(null, "this node already serves " + Subsystem.MAX_NAMESPACES
                        + " volumes, or the NSIDs of deleted ones may still be known to connected hosts");
            }
            int mapId;
            try {
                mapId = engineChange(() -> source == null ? engine.createVolume(blockSize, size / blockSize, compression)
                        : engine.cloneOf(source.mapId(), size / blockSize, compression, false));
            } catch (RuntimeException e) {
                nsids.unused(nsid);
                throw e;
            }
            VolumeRecord record = new VolumeRecord(identity.id(), request.name(), project, size,
                    blockSize, nsid, identity.uuid(), identity.nguid(), request.hosts(), compression, replicas, mapId,
                    request.sourceSnapshotId(), request.sourceVolumeId(), request.authenticationRequired(),
                    VolumeViews.limitsOf(request.qos()));
            try {
                catalog.putVolume(record, nsids.next());
            } catch (UncheckedIOException e) {
                nsids.unused(nsid);
                deleteMapQuietly(mapId);
                throw new UncheckedIOException("cannot create volume '" + request.name() + "': " + e.getMessage(),
                        e.getCause());
            }
            if (!replicated(record)) {
                exporter.expose(record, store -> store);
            }
            LOG.info("created volume {} '{}' of project {} ({} bytes{}) as NSID {}", record.id(), record.name(),
                    project, size, source == null ? "" : ", from " + source.describe(), record.nsid());
            return views.of(record);
        }
    }

    @Override
    public List<Volume> list(String project, String name) {
        return catalog.volumes().stream()
                .filter(r -> r.project().equals(project) && (name == null || r.name().equals(name)))
                .sorted(Comparator.comparingInt(VolumeRecord::nsid))
                .map(views::of)
                .toList();
    }

    @Override
    public Optional<Volume> find(String project, String id) {
        return Optional.ofNullable(catalog.volume(id)).filter(r -> r.project().equals(project)).map(views::of);
    }

    @Override
    public Volume extend(String project, String id, long sizeBytes) {
        synchronized (mutations) {
            VolumeRecord record = existing(project, id);
            if (sizeBytes == record.sizeBytes()) {
                return views.of(record);
            }
            if (sizeBytes < record.sizeBytes()) {
                throw new InvalidVolumeRequestException("sizeBytes", "volumes cannot shrink: " + sizeBytes
                        + " is smaller than the current " + record.sizeBytes() + " bytes");
            }
            CapacityPolicy.checkSize(sizeBytes, record.blockSize(), 0);
            capacity.checkProvisioning(catalog.provisionedBytes(), sizeBytes - record.sizeBytes());
            // The engine cannot shrink a map back: the registry goes first.
            VolumeRecord updated = record.withSize(sizeBytes);
            recordThenChangeEngine(record, updated, () -> engine.resize(record.mapId(), sizeBytes / record.blockSize()));
            exporter.resized(updated);
            LOG.info("extended volume {} '{}' from {} to {} bytes", id, record.name(), record.sizeBytes(), sizeBytes);
            return views.of(updated);
        }
    }

    @Override
    public Volume update(String project, String id, UpdateVolumeRequest request) {
        synchronized (mutations) {
            VolumeRecord record = existing(project, id);
            String name = request.name() == null ? record.name() : request.name();
            boolean compression = request.compression() == null ? record.compression() : request.compression();
            if (name.equals(record.name()) && compression == record.compression()) {
                return views.of(record);
            }
            if (!name.equals(record.name())) {
                checkNameFree(project, name);
            }
            VolumeRecord updated = record.withNameAndCompression(name, compression);
            if (compression == record.compression()) {
                catalog.putVolume(updated, nsids.next());
            } else {
                recordThenChangeEngine(record, updated, () -> engine.setCompression(record.mapId(), compression));
            }
            LOG.info("updated volume {}: name '{}' (was '{}'), compression {} (was {})", id, name, record.name(),
                    compression, record.compression());
            return views.of(updated);
        }
    }

    @Override
    public Volume setQos(String project, String id, Qos qos) {
        synchronized (mutations) {
            VolumeRecord record = existing(project, id);
            QosLimits limits = VolumeViews.limitsOf(qos);
            if (limits.equals(record.qos())) {
                return views.of(record);
            }
            VolumeRecord updated = record.withQos(limits);
            catalog.putVolume(updated, nsids.next());
            exporter.limit(updated);
            LOG.info("volume {} '{}' now has QoS limits {}", id, record.name(), limits);
            return views.of(updated);
        }
    }

    @Override
    public Volume setHosts(String project, String id, List<String> hosts) {
        synchronized (mutations) {
            return changeHosts(existing(project, id), List.copyOf(new LinkedHashSet<>(hosts)));
        }
    }

    @Override
    public Volume addHost(String project, String id, String hostNqn) {
        synchronized (mutations) {
            VolumeRecord record = existing(project, id);
            if (record.hosts().contains(hostNqn)) {
                return views.of(record);
            }
            return changeHosts(record, VolumeService.withHost(id, record.hosts(), hostNqn));
        }
    }

    @Override
    public Volume removeHost(String project, String id, String hostNqn) {
        synchronized (mutations) {
            VolumeRecord record = existing(project, id);
            if (!record.hosts().contains(hostNqn)) {
                return views.of(record);
            }
            List<String> hosts = new ArrayList<>(record.hosts());
            hosts.remove(hostNqn);
            return changeHosts(record, hosts);
        }
    }

    @Override
    public void delete(String project, String id) {
        synchronized (mutations) {
            VolumeRecord record = existing(project, id);
            catalog.removeVolume(id, nsids.next());
            exporter.hide(record);
            nsids.release(record.nsid());
            deleteMapQuietly(record.mapId());
            LOG.info("deleted volume {} '{}' (NSID {})", id, record.name(), record.nsid());
        }
    }

    @Override
    public Snapshot createSnapshot(String project, CreateSnapshotRequest request) {
        return createSnapshot(UUID.randomUUID().toString(), Instant.now(), project, request);
    }

    /**
     * Takes a snapshot whose id and time were chosen elsewhere: by the cluster, which takes one of every
     * copy of a replicated volume under one id.
     */
    public Snapshot createSnapshot(String id, Instant createdAt, String project, CreateSnapshotRequest request) {
        synchronized (mutations) {
            if (catalog.snapshots().stream().anyMatch(s -> s.project().equals(project)
                    && s.name().equals(request.name()))) {
                throw new VolumeConflictException("name", "a snapshot named '" + request.name() + "' already exists");
            }
            if (catalog.snapshot(id) != null) {
                throw new VolumeConflictException("id", "a snapshot with id " + id + " already exists");
            }
            VolumeRecord volume = existing(project, request.sourceVolumeId());
            int mapId = engineChange(() -> engine.cloneOf(volume.mapId(), volume.sizeBytes() / volume.blockSize(),
                    volume.compression(), true));
            SnapshotRecord snapshot = new SnapshotRecord(id, request.name(), project,
                    volume.id(), volume.sizeBytes(), createdAt, mapId);
            try {
                catalog.putSnapshot(snapshot);
            } catch (RuntimeException e) {
                deleteMapQuietly(mapId);
                throw e;
            }
            LOG.info("created snapshot {} '{}' of volume {}", snapshot.id(), snapshot.name(), volume.id());
            return views.of(snapshot);
        }
    }

    @Override
    public List<Snapshot> listSnapshots(String project, String name) {
        return catalog.snapshots().stream()
                .filter(s -> s.project().equals(project) && (name == null || s.name().equals(name)))
                .sorted(Comparator.comparing(SnapshotRecord::createdAt).thenComparing(SnapshotRecord::id))
                .map(views::of)
                .toList();
    }

    @Override
    public Optional<Snapshot> findSnapshot(String project, String id) {
        return Optional.ofNullable(catalog.snapshot(id)).filter(s -> s.project().equals(project)).map(views::of);
    }

    @Override
    public void deleteSnapshot(String project, String id) {
        synchronized (mutations) {
            SnapshotRecord snapshot = existingSnapshot(project, id);
            SnapshotGroupRecord group = catalog.groupOf(id);
            if (group != null) {
                throw new VolumeConflictException("id", "snapshot " + id + " is a member of snapshot group "
                        + group.id() + " '" + group.name() + "'; delete the group, which deletes its members");
            }
            catalog.removeSnapshot(id);
            deleteMapQuietly(snapshot.mapId());
            LOG.info("deleted snapshot {} '{}'", id, snapshot.name());
        }
    }

    @Override
    public SnapshotGroup createSnapshotGroup(String project, CreateSnapshotGroupRequest request) {
        synchronized (mutations) {
            if (catalog.snapshotGroups().stream().anyMatch(g -> g.project().equals(project)
                    && g.name().equals(request.name()))) {
                throw new VolumeConflictException("name", "a snapshot group named '" + request.name()
                        + "' already exists");
            }
            List<String> memberNames = new ArrayList<>();
            for (int i = 0; i < request.volumeIds().size(); i++) {
                memberNames.add(request.name() + "." + i);
            }
            catalog.snapshots().stream()
                    .filter(s -> s.project().equals(project) && memberNames.contains(s.name()))
                    .findFirst()
                    .ifPresent(taken -> {
                        throw new VolumeConflictException("name", "the group's member snapshots are called '"
                                + request.name() + ".<n>', and a snapshot named '" + taken.name() + "' exists");
                    });
            List<VolumeRecord> volumes = request.volumeIds().stream().map(id -> existing(project, id)).toList();
            List<Integer> mapIds = engineChange(() -> engine.snapshotsOf(
                    volumes.stream().map(VolumeRecord::mapId).toList()));
            Instant now = Instant.now();
            List<SnapshotRecord> members = new ArrayList<>();
            for (int i = 0; i < volumes.size(); i++) {
                VolumeRecord volume = volumes.get(i);
                members.add(new SnapshotRecord(UUID.randomUUID().toString(), memberNames.get(i), project,
                        volume.id(), volume.sizeBytes(), now, mapIds.get(i)));
            }
            SnapshotGroupRecord group = new SnapshotGroupRecord(UUID.randomUUID().toString(), request.name(),
                    project, now, members.stream().map(SnapshotRecord::id).toList());
            try {
                catalog.putSnapshotGroup(group, members);
            } catch (RuntimeException e) {
                mapIds.forEach(this::deleteMapQuietly);
                throw e;
            }
            LOG.info("created snapshot group {} '{}' of volumes {}", group.id(), group.name(), request.volumeIds());
            return groupView(group);
        }
    }

    @Override
    public List<SnapshotGroup> listSnapshotGroups(String project, String name) {
        return catalog.snapshotGroups().stream()
                .filter(g -> g.project().equals(project) && (name == null || g.name().equals(name)))
                .sorted(Comparator.comparing(SnapshotGroupRecord::createdAt).thenComparing(SnapshotGroupRecord::id))
                .map(this::groupView)
                .toList();
    }

    @Override
    public Optional<SnapshotGroup> findSnapshotGroup(String project, String id) {
        return Optional.ofNullable(catalog.snapshotGroup(id)).filter(g -> g.project().equals(project))
                .map(this::groupView);
    }

    @Override
    public void deleteSnapshotGroup(String project, String id) {
        synchronized (mutations) {
            SnapshotGroupRecord group = catalog.snapshotGroup(id);
            if (group == null || !group.project().equals(project)) {
                throw new SnapshotGroupNotFoundException(id);
            }
            List<Integer> mapIds = group.snapshotIds().stream().map(catalog::snapshot).map(SnapshotRecord::mapId)
                    .toList();
            catalog.removeSnapshotGroup(group);
            mapIds.forEach(this::deleteMapQuietly);
            LOG.info("deleted snapshot group {} '{}' and its {} snapshots", id, group.name(), mapIds.size());
        }
    }

    private SnapshotGroup groupView(SnapshotGroupRecord group) {
        // A reader may see a group whose deletion is removing its members; it shows those still there.
        List<Snapshot> members = group.snapshotIds().stream().map(catalog::snapshot).filter(Objects::nonNull)
                .map(views::of).toList();
        return new SnapshotGroup(group.id(), group.name(), group.project(), group.createdAt(), members);
    }

    @Override
    public Volume revert(String project, String volumeId, String snapshotId) {
        synchronized (mutations) {
            VolumeRecord volume = existing(project, volumeId);
            SnapshotRecord snapshot = existingSnapshot(project, snapshotId);
            if (!snapshot.sourceVolumeId().equals(volumeId)) {
                throw new InvalidVolumeRequestException("snapshotId", "snapshot " + snapshotId
                        + " was taken of volume " + snapshot.sourceVolumeId() + ", not of " + volumeId);
            }
            engineChange(() -> {
                engine.revert(volume.mapId(), snapshot.mapId());
                return null;
            });
            LOG.info("reverted volume {} '{}' to snapshot {} '{}'", volumeId, volume.name(), snapshotId,
                    snapshot.name());
            return views.of(volume);
        }
    }

    /**
     * Makes volumes that require authentication visible only to the hosts of their ACL that
     * {@code authenticating} says have a secret (and so must authenticate), and applies that now.
     */
    public void authenticatingHosts(Predicate<String> authenticating) {
        synchronized (mutations) {
            exporter.authenticatingHosts(authenticating, catalog.volumes());
        }
    }

    @Override
    public NodeStats stats() {
        return views.node(catalog.provisionedBytes(), catalog.volumes().size(), catalog.snapshots().size());
    }

    public int volumeCount() {
        return catalog.volumes().size();
    }

    /** Compression ratio of one volume: logical bytes mapped / bytes stored (1.0 when empty). O(1). */
    public double compressionRatio(String volumeId) {
        VolumeRecord record = catalog.volume(volumeId);
        return record == null ? 1.0 : views.compressionRatio(record);
    }

    /** Seconds the volume's commands have waited for their QoS slot (0 for an unknown volume). */
    public double throttledSeconds(String volumeId) {
        return exporter.throttledSeconds(volumeId);
    }

    /**
     * Stops taking changes; the subsystem keeps its namespaces until the node closes the store, after
     * which they fail I/O. Idempotent.
     */
    @Override
    public void close() {
        synchronized (mutations) {
            closed = true;
            exporter.close();
        }
    }

    private void restore() throws IOException {
        synchronized (mutations) {
            RegistryContent persisted = catalog.persisted();
            Set<Integer> named = new HashSet<>();
            List<VolumeRecord> restored = new ArrayList<>();
            for (VolumeRecord record : persisted.volumes()) {
                if (engine.volume(record.mapId()).isEmpty()) {
                    throw new IOException("volume " + record.id() + " '" + record.name() + "': its engine map "
                            + record.mapId() + " is missing from the drives; were drives replaced or reformatted?");
                }
                long engineSize = engine.sizeBlocks(record.mapId()) * record.blockSize();
                if (engineSize < record.sizeBytes()) {
                    LOG.info("completing the extend of volume {} to {} bytes", record.id(), record.sizeBytes());
                    engine.resize(record.mapId(), record.sizeBytes() / record.blockSize());
                }
                if (engine.compressed(record.mapId()) != record.compression()) {
                    LOG.info("completing the compression change of volume {} to {}", record.id(), record.compression());
                    engine.setCompression(record.mapId(), record.compression());
                }
                restored.add(engineSize > record.sizeBytes() ? record.withSize(engineSize) : record);
                named.add(record.mapId());
            }
            for (SnapshotRecord snapshot : persisted.snapshots()) {
                if (engine.volume(snapshot.mapId()).isEmpty()) {
                    throw new IOException("snapshot " + snapshot.id() + " '" + snapshot.name() + "': its engine map "
                            + snapshot.mapId() + " is missing from the drives");
                }
                named.add(snapshot.mapId());
            }
            for (int mapId : engine.mapIds()) {
                if (!named.contains(mapId)) {
                    LOG.info("deleting engine map {}, left behind by a change interrupted before it was registered",
                            mapId);
                    engine.delete(mapId);
                }
            }
            if (!restored.equals(persisted.volumes()) || persisted.nextNsid() != nsids.next()) {
                catalog.saveAll(restored, persisted.snapshots(), nsids.next());
            }
            catalog.restored(restored, persisted.snapshots());
            restored.stream().filter(r -> !replicated(r)).forEach(r -> exporter.expose(r, store -> store));
            LOG.info("subsystem {} serves {} volume(s) and keeps {} snapshot(s)", subsystem().nqn(),
                    restored.size(), persisted.snapshots().size());
        }
    }

    /** A copy of a replicated volume: the cluster decides how it is served. */
    private static boolean replicated(VolumeRecord record) {
        return record.replicas() > 1;
    }

    /**
     * Shows a copy of a replicated volume to its hosts in the volume's own subsystem
     * ({@link #volumeNqn}, NSID 1, ANA group 1, the same on every node holding a copy), through the store
     * {@code through} makes of the engine's, and returns that subsystem for the caller to add to the
     * target. Its controllers get IDs from {@code cntlids}, this node's part of the range.
     */
    public Subsystem serve(String id, UnaryOperator<BlockStore> through, CntlidRange cntlids) {
        synchronized (mutations) {
            VolumeRecord record = catalog.volume(id);
            if (record == null) {
                throw new VolumeNotFoundException(id);
            }
            return exporter.exposeAlone(record, through, cntlids);
        }
    }

    /** The subsystem NQN every node holding a copy of replicated volume {@code id} shows it to hosts in. */
    public static String volumeNqn(String id) {
        return NamespaceExporter.volumeNqn(id);
    }

    /** The engine's store of a volume's blocks, for a secondary to serve its copy to its primary. */
    public BlockStore store(String id) {
        VolumeRecord record = catalog.volume(id);
        if (record == null) {
            throw new VolumeNotFoundException(id);
        }
        return engine.volume(record.mapId()).orElseThrow(
                () -> new IllegalStateException("volume " + id + " has no engine map " + record.mapId()));
    }

    private void checkNameFree(String project, String name) {
        if (catalog.volumes().stream().anyMatch(v -> v.project().equals(project) && v.name().equals(name))) {
            throw new VolumeConflictException("name", "a volume named '" + name + "' already exists");
        }
    }

    /**
     * Records {@code updated}, then makes the engine change that goes with it. The registry goes first
     * because a start completes a recorded change that the engine missed; if the engine refuses or
     * cancels the change, the record goes back (the engine did not change, so both agree again).
     */
    private void recordThenChangeEngine(VolumeRecord record, VolumeRecord updated, Runnable change) {
        catalog.putVolume(updated, nsids.next());
        try {
            engineChange(() -> {
                change.run();
                return null;
            });
        } catch (RuntimeException e) {
            try {
                catalog.putVolume(record, nsids.next());
            } catch (RuntimeException undo) {
                e.addSuppressed(undo);
            }
            throw e;
        }
    }

    /** A change of the engine's maps; a change the engine cancelled becomes the API's "not made, retry". */
    private <T> T engineChange(Supplier<T> change) {
        if (closed) {
            throw new ChangeNotMadeException("the node is shutting down", null);
        }
        try {
            return change.get();
        } catch (ControlCancelledException e) {
            throw new ChangeNotMadeException(e.getMessage(), e);
        }
    }

    /** What a new volume starts from. */
    private record Source(int mapId, long sizeBytes, int blockSize, String describe) {
    }

    private Source source(String project, CreateVolumeRequest request) {
        if (request.sourceSnapshotId() != null) {
            SnapshotRecord snapshot = existingSnapshot(project, request.sourceSnapshotId());
            int blockSize = engine.volume(snapshot.mapId()).map(v -> v.blockSize())
                    .orElseThrow(() -> new SnapshotNotFoundException(snapshot.id()));
            return new Source(snapshot.mapId(), snapshot.sizeBytes(), blockSize, "snapshot " + snapshot.id());
        }
        if (request.sourceVolumeId() != null) {
            VolumeRecord volume = existing(project, request.sourceVolumeId());
            return new Source(volume.mapId(), volume.sizeBytes(), volume.blockSize(), "volume " + volume.id());
        }
        return null;
    }

    private Volume changeHosts(VolumeRecord record, List<String> hosts) {
        VolumeRecord updated = record.withHosts(hosts);
        catalog.putVolume(updated, nsids.next());
        exporter.allowHosts(updated);
        LOG.info("volume {} '{}' now allows hosts {}", updated.id(), updated.name(), hosts);
        return views.of(updated);
    }

    private VolumeRecord existing(String project, String id) {
        VolumeRecord record = catalog.volume(id);
        if (record == null || !record.project().equals(project)) {
            throw new VolumeNotFoundException(id);
        }
        return record;
    }

    private SnapshotRecord existingSnapshot(String project, String id) {
        SnapshotRecord snapshot = catalog.snapshot(id);
        if (snapshot == null || !snapshot.project().equals(project)) {
            throw new SnapshotNotFoundException(id);
        }
        return snapshot;
    }

    private String randomNguid() {
        byte[] nguid = new byte[16];
        random.nextBytes(nguid);
        return HexFormat.of().formatHex(nguid);
    }

    private void deleteMapQuietly(int mapId) {
        try {
            engine.delete(mapId);
        } catch (RuntimeException e) {
            LOG.warn("engine map {} could not be deleted now ({}); the next start deletes it", mapId, e.toString());
        }
    }
}
