package io.basalt.service.volume;

import io.basalt.bridge.InsufficientCapacityException;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.SnapshotNotFoundException;
import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.VolumeNotFoundException;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.NodeStats;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.SpaceUsage;
import io.basalt.bridge.api.Volume;
import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.Subsystem;
import io.basalt.service.engine.Engine;
import io.basalt.service.engine.EngineConfig;
import io.basalt.service.engine.EngineStats;
import io.basalt.service.engine.EngineVolume;
import io.basalt.service.engine.map.MapStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The node's volumes and snapshots: one subsystem whose namespaces are volumes, each backed by a map
 * of the storage engine, all recorded in the registry so that they survive restarts.
 *
 * <p>The registry says what exists; the engine holds the blocks. A change is made in the engine
 * first (durably), then recorded in the registry, then shown to hosts; a crash between the first two
 * steps leaves an engine map nobody names, which the next start deletes. A failed change leaves
 * nothing half-made. Changes are serialised; reads do not lock.
 */
public final class VolumeManager implements VolumeService, AutoCloseable {
    static final String MODEL = "Basalt";
    /** Identify Controller's serial number field holds 20 ASCII characters. */
    private static final int SERIAL_LENGTH = 20;
    private static final Logger LOG = LoggerFactory.getLogger(VolumeManager.class);

    private final Defaults defaults;
    private final Supplier<List<Portal>> portals;
    private final VolumeObservers observers;
    private final VolumeRegistry registry;
    private final DataDirLock dataDirLock;
    private final Engine engine;
    private final Subsystem subsystem;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, OpenVolume> volumes = new ConcurrentHashMap<>();
    private final Map<String, SnapshotRecord> snapshots = new ConcurrentHashMap<>();
    private final Object mutations = new Object();
    /** What the registry file holds; guarded by {@link #mutations}. */
    private RegistryContent persisted;
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

    private record OpenVolume(VolumeRecord record, EngineVolume device) {
    }

    private VolumeManager(Defaults defaults, Supplier<List<Portal>> portals, VolumeObservers observers,
                          VolumeRegistry registry, DataDirLock dataDirLock, RegistryContent persisted, Engine engine) {
        this.defaults = defaults;
        this.portals = portals;
        this.observers = observers;
        this.registry = registry;
        this.dataDirLock = dataDirLock;
        this.persisted = persisted;
        this.engine = engine;
        this.subsystem = new Subsystem(persisted.subsystemNqn(), serialOf(persisted.subsystemNqn()), MODEL);
    }

    /**
     * Opens the data directory, creating it (and the node's identity) on first use, opens the engine
     * on the drives {@code engineConfig} describes for the node's ID, and exposes every registered
     * volume as a namespace of {@link #subsystem()}.
     *
     * @param portals where hosts reach the subsystem, asked each time a volume is shown
     */
    public static VolumeManager open(Path dataDir, Defaults defaults, Function<UUID, EngineConfig> engineConfig,
                                     Supplier<List<Portal>> portals, VolumeObservers observers) throws IOException {
        Files.createDirectories(dataDir);
        DataDirLock lock = DataDirLock.acquire(dataDir);
        VolumeManager manager;
        try {
            VolumeRegistry registry = VolumeRegistry.in(dataDir);
            RegistryContent content = registry.loadOrCreate();
            Engine engine = Engine.open(engineConfig.apply(content.nodeId()));
            manager = new VolumeManager(defaults, portals, observers, registry, lock, content, engine);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
        try {
            manager.restore();
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
        return manager;
    }

    /** The node's one subsystem, to be added to the NVMe target. */
    public Subsystem subsystem() {
        return subsystem;
    }

    /** The storage engine, for metrics. */
    public Engine engine() {
        return engine;
    }

    @Override
    public Volume create(String project, CreateVolumeRequest request) {
        synchronized (mutations) {
            if (volumes.values().stream().anyMatch(v -> v.record().project().equals(project)
                    && v.record().name().equals(request.name()))) {
                throw new VolumeConflictException("name", "a volume named '" + request.name() + "' already exists");
            }
            int replicas = request.replicas() == null ? 1 : request.replicas();
            if (replicas != 1) {
                throw new InvalidVolumeRequestException("replicas",
                        "this node is not part of a cluster and keeps exactly 1 replica");
            }
            if (request.sourceSnapshotId() != null && request.sourceVolumeId() != null) {
                throw new InvalidVolumeRequestException("sourceVolumeId",
                        "give sourceSnapshotId or sourceVolumeId, not both");
            }
            boolean compression = request.compression() == null ? defaults.compression() : request.compression();
            Source source = source(project, request);
            long size = request.sizeBytes() == 0 && source != null ? source.sizeBytes() : request.sizeBytes();
            int blockSize = source != null ? source.blockSize() : defaults.blockSize();
            checkSize(size, blockSize, source == null ? 0 : source.sizeBytes());
            checkCapacity(size);
            int mapId = source == null ? engine.createVolume(blockSize, size / blockSize, compression)
                    : engine.cloneOf(source.mapId(), size / blockSize, compression, false);
            VolumeRecord record = new VolumeRecord(UUID.randomUUID().toString(), request.name(), project, size,
                    blockSize, lowestFreeNsid(), UUID.randomUUID(), randomNguid(), request.hosts(), compression, 1, mapId,
                    request.sourceSnapshotId(), request.sourceVolumeId(), request.authenticationRequired());
            try {
                persist(records(record, null), snapshotList(null, null));
            } catch (IOException | RuntimeException e) {
                deleteMapQuietly(mapId);
                throw unchecked(e, "cannot create volume '" + request.name() + "'");
            }
            expose(record);
            LOG.info("created volume {} '{}' of project {} ({} bytes{}) as NSID {}", record.id(), record.name(),
                    project, size, source == null ? "" : ", from " + source.describe(), record.nsid());
            return view(record);
        }
    }

    @Override
    public List<Volume> list(String project, String name) {
        return volumes.values().stream()
                .map(OpenVolume::record)
                .filter(r -> r.project().equals(project) && (name == null || r.name().equals(name)))
                .sorted(Comparator.comparingInt(VolumeRecord::nsid))
                .map(this::view)
                .toList();
    }

    @Override
    public Optional<Volume> find(String project, String id) {
        return Optional.ofNullable(id == null ? null : volumes.get(id)).map(OpenVolume::record)
                .filter(r -> r.project().equals(project)).map(this::view);
    }

    @Override
    public Volume extend(String project, String id, long sizeBytes) {
        synchronized (mutations) {
            OpenVolume volume = existing(project, id);
            VolumeRecord record = volume.record();
            if (sizeBytes == record.sizeBytes()) {
                return view(record);
            }
            if (sizeBytes < record.sizeBytes()) {
                throw new InvalidVolumeRequestException("sizeBytes", "volumes cannot shrink: " + sizeBytes
                        + " is smaller than the current " + record.sizeBytes() + " bytes");
            }
            checkSize(sizeBytes, record.blockSize(), 0);
            checkCapacity(sizeBytes - record.sizeBytes());
            // The registry first: the engine cannot shrink a map back, but a start completes a recorded
            // extend that the engine missed.
            VolumeRecord updated = record.withSize(sizeBytes);
            persistQuietly(updated, "cannot record the new size of volume " + id);
            try {
                engine.resize(record.mapId(), sizeBytes / record.blockSize());
            } catch (RuntimeException e) {
                try {
                    persist(records(record, null), snapshotList(null, null));
                } catch (IOException undo) {
                    e.addSuppressed(undo);
                }
                throw e;
            }
            volumes.put(id, new OpenVolume(updated, volume.device()));
            subsystem.namespaceResized(updated.nsid());
            LOG.info("extended volume {} '{}' from {} to {} bytes", id, record.name(), record.sizeBytes(), sizeBytes);
            return view(updated);
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
            OpenVolume volume = existing(project, id);
            if (volume.record().hosts().contains(hostNqn)) {
                return view(volume.record());
            }
            List<String> hosts = new ArrayList<>(volume.record().hosts());
            hosts.add(hostNqn);
            return changeHosts(volume, hosts);
        }
    }

    @Override
    public Volume removeHost(String project, String id, String hostNqn) {
        synchronized (mutations) {
            OpenVolume volume = existing(project, id);
            if (!volume.record().hosts().contains(hostNqn)) {
                return view(volume.record());
            }
            List<String> hosts = new ArrayList<>(volume.record().hosts());
            hosts.remove(hostNqn);
            return changeHosts(volume, hosts);
        }
    }

    @Override
    public void delete(String project, String id) {
        synchronized (mutations) {
            OpenVolume volume = existing(project, id);
            persistQuietly(records(null, id), snapshotList(null, null), "cannot delete volume " + id);
            subsystem.removeNamespace(volume.record().nsid());
            volumes.remove(id);
            observers.volumeDeleted(id);
            deleteMapQuietly(volume.record().mapId());
            LOG.info("deleted volume {} '{}' (NSID {})", id, volume.record().name(), volume.record().nsid());
        }
    }

    @Override
    public Snapshot createSnapshot(String project, CreateSnapshotRequest request) {
        synchronized (mutations) {
            if (snapshots.values().stream().anyMatch(s -> s.project().equals(project)
                    && s.name().equals(request.name()))) {
                throw new VolumeConflictException("name", "a snapshot named '" + request.name() + "' already exists");
            }
            VolumeRecord volume = existing(project, request.sourceVolumeId()).record();
            int mapId = engine.cloneOf(volume.mapId(), volume.sizeBytes() / volume.blockSize(), volume.compression(),
                    true);
            SnapshotRecord snapshot = new SnapshotRecord(UUID.randomUUID().toString(), request.name(), project,
                    volume.id(), volume.sizeBytes(), Instant.now(), mapId);
            try {
                persist(records(null, null), snapshotList(snapshot, null));
            } catch (IOException | RuntimeException e) {
                deleteMapQuietly(mapId);
                throw unchecked(e, "cannot create snapshot '" + request.name() + "'");
            }
            snapshots.put(snapshot.id(), snapshot);
            LOG.info("created snapshot {} '{}' of volume {}", snapshot.id(), snapshot.name(), volume.id());
            return view(snapshot);
        }
    }

    @Override
    public List<Snapshot> listSnapshots(String project, String name) {
        return snapshots.values().stream()
                .filter(s -> s.project().equals(project) && (name == null || s.name().equals(name)))
                .sorted(Comparator.comparing(SnapshotRecord::createdAt).thenComparing(SnapshotRecord::id))
                .map(this::view)
                .toList();
    }

    @Override
    public Optional<Snapshot> findSnapshot(String project, String id) {
        return Optional.ofNullable(id == null ? null : snapshots.get(id)).filter(s -> s.project().equals(project)).map(this::view);
    }

    @Override
    public void deleteSnapshot(String project, String id) {
        synchronized (mutations) {
            SnapshotRecord snapshot = existingSnapshot(project, id);
            persistQuietly(records(null, null), snapshotList(null, id), "cannot delete snapshot " + id);
            snapshots.remove(id);
            deleteMapQuietly(snapshot.mapId());
            LOG.info("deleted snapshot {} '{}'", id, snapshot.name());
        }
    }

    @Override
    public Volume revert(String project, String volumeId, String snapshotId) {
        synchronized (mutations) {
            OpenVolume volume = existing(project, volumeId);
            SnapshotRecord snapshot = existingSnapshot(project, snapshotId);
            if (!snapshot.sourceVolumeId().equals(volumeId)) {
                throw new InvalidVolumeRequestException("snapshotId", "snapshot " + snapshotId
                        + " was taken of volume " + snapshot.sourceVolumeId() + ", not of " + volumeId);
            }
            engine.revert(volume.record().mapId(), snapshot.mapId());
            LOG.info("reverted volume {} '{}' to snapshot {} '{}'", volumeId, volume.record().name(), snapshotId,
                    snapshot.name());
            return view(volume.record());
        }
    }

    @Override
    public NodeStats stats() {
        EngineStats engineStats = engine.stats();
        long provisioned = volumes.values().stream().mapToLong(v -> v.record().sizeBytes()).sum();
        long mapped = 0;
        long stored = 0;
        for (int mapId : engine.mapIds()) {
            SpaceUsage usage = space(mapId);
            mapped += usage.mappedBytes();
            stored += usage.storedBytes();
        }
        return new NodeStats(engineStats.capacityBytes(),
                Math.max(0, engineStats.capacityBytes() - engineStats.liveBytes()), engineStats.liveBytes(),
                provisioned, engine.maxOversubscription(), stored == 0 ? 1.0 : (double) mapped / stored,
                engineStats.writeAmplification(), volumes.size(), snapshots.size());
    }

    public int volumeCount() {
        return volumes.size();
    }

    /** Compression ratio of one volume: logical bytes mapped / bytes stored (1.0 when empty). */
    public double compressionRatio(String volumeId) {
        OpenVolume volume = volumes.get(volumeId);
        if (volume == null) {
            return 1.0;
        }
        SpaceUsage usage = space(volume.record().mapId());
        return usage.storedBytes() == 0 ? 1.0 : (double) usage.mappedBytes() / usage.storedBytes();
    }

    /**
     * Closes the engine (writing a final checkpoint); the subsystem keeps its namespaces but they fail
     * I/O. Idempotent.
     */
    @Override
    public void close() throws IOException {
        synchronized (mutations) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                engine.close();
            } finally {
                dataDirLock.close();
            }
        }
    }

    private void restore() throws IOException {
        synchronized (mutations) {
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
                restored.add(engineSize > record.sizeBytes() ? record.withSize(engineSize) : record);
                named.add(record.mapId());
            }
            for (SnapshotRecord snapshot : persisted.snapshots()) {
                if (engine.volume(snapshot.mapId()).isEmpty()) {
                    throw new IOException("snapshot " + snapshot.id() + " '" + snapshot.name() + "': its engine map "
                            + snapshot.mapId() + " is missing from the drives");
                }
                named.add(snapshot.mapId());
                snapshots.put(snapshot.id(), snapshot);
            }
            for (int mapId : engine.mapIds()) {
                if (!named.contains(mapId)) {
                    LOG.info("deleting engine map {}, left behind by a change interrupted before it was registered",
                            mapId);
                    engine.delete(mapId);
                }
            }
            if (!restored.equals(persisted.volumes())) {
                persist(restored, persisted.snapshots());
            }
            restored.forEach(this::expose);
            LOG.info("subsystem {} serves {} volume(s) and keeps {} snapshot(s)", subsystem.nqn(), volumes.size(),
                    snapshots.size());
        }
    }

    /** What a new volume starts from. */
    private record Source(int mapId, long sizeBytes, int blockSize, String describe) {
    }

    private Source source(String project, CreateVolumeRequest request) {
        if (request.sourceSnapshotId() != null) {
            SnapshotRecord snapshot = existingSnapshot(project, request.sourceSnapshotId());
            int blockSize = existingBlockSize(snapshot);
            return new Source(snapshot.mapId(), snapshot.sizeBytes(), blockSize, "snapshot " + snapshot.id());
        }
        if (request.sourceVolumeId() != null) {
            VolumeRecord volume = existing(project, request.sourceVolumeId()).record();
            return new Source(volume.mapId(), volume.sizeBytes(), volume.blockSize(), "volume " + volume.id());
        }
        return null;
    }

    private int existingBlockSize(SnapshotRecord snapshot) {
        return engine.volume(snapshot.mapId()).map(EngineVolume::blockSize)
                .orElseThrow(() -> new SnapshotNotFoundException(snapshot.id()));
    }

    private static void checkSize(long size, int blockSize, long minimum) {
        if (size <= 0) {
            throw new InvalidVolumeRequestException("sizeBytes", "sizeBytes must be positive");
        }
        if (size % blockSize != 0) {
            throw new InvalidVolumeRequestException("sizeBytes",
                    "sizeBytes must be a multiple of the volume's block size, " + blockSize + " bytes");
        }
        if (size < minimum) {
            throw new InvalidVolumeRequestException("sizeBytes", "sizeBytes " + size
                    + " is smaller than the source's " + minimum + " bytes");
        }
    }

    /** Thin provisioning allows provisioning up to capacity times the over-subscription ratio. */
    private void checkCapacity(long additionalBytes) {
        long provisioned = volumes.values().stream().mapToLong(v -> v.record().sizeBytes()).sum();
        double limit = engine.capacityBytes() * engine.maxOversubscription();
        if (provisioned + additionalBytes > limit) {
            throw new InsufficientCapacityException("provisioning " + additionalBytes + " more bytes would make "
                    + (provisioned + additionalBytes) + ", over this node's limit of " + (long) limit + " bytes ("
                    + engine.capacityBytes() + " bytes of capacity x over-subscription ratio "
                    + engine.maxOversubscription() + ")");
        }
    }

    private Volume changeHosts(OpenVolume volume, List<String> hosts) {
        VolumeRecord updated = volume.record().withHosts(hosts);
        persistQuietly(updated, "cannot change the hosts of volume " + updated.id());
        subsystem.setAllowedHosts(updated.nsid(), admittedHosts(updated));
        volumes.put(updated.id(), new OpenVolume(updated, volume.device()));
        LOG.info("volume {} '{}' now allows hosts {}", updated.id(), updated.name(), hosts);
        return view(updated);
    }

    /**
     * Makes volumes that require authentication visible only to the hosts of their ACL that
     * {@code authenticating} says have a secret (and so must authenticate), and applies that now.
     */
    public void authenticatingHosts(Predicate<String> authenticating) {
        synchronized (mutations) {
            this.authenticating = authenticating;
            for (OpenVolume v : volumes.values()) {
                if (v.record().requireAuthentication()) {
                    subsystem.setAllowedHosts(v.record().nsid(), admittedHosts(v.record()));
                }
            }
        }
    }

    /** The namespace's ACL: the volume's hosts, less those without a secret if it requires authentication. */
    private Set<String> admittedHosts(VolumeRecord record) {
        if (!record.requireAuthentication()) {
            return Set.copyOf(record.hosts());
        }
        Set<String> admitted = new HashSet<>();
        for (String host : record.hosts()) {
            if (authenticating.test(host)) {
                admitted.add(host);
            } else {
                LOG.warn("volume {} requires authentication: host {} has no DH-HMAC-CHAP secret and does not see it",
                        record.id(), host);
            }
        }
        return admitted;
    }

    private void expose(VolumeRecord record) {
        EngineVolume device = engine.volume(record.mapId()).orElseThrow();
        Namespace namespace = new Namespace(record.nsid(), record.uuid(), record.nguidBytes(), device,
                admittedHosts(record));
        namespace.observer(observers.observerFor(record.id(), record.name()));
        subsystem.addNamespace(namespace);
        volumes.put(record.id(), new OpenVolume(record, device));
    }

    private void persistQuietly(VolumeRecord changed, String failure) {
        persistQuietly(records(changed, null), snapshotList(null, null), failure);
    }

    private void persistQuietly(List<VolumeRecord> records, List<SnapshotRecord> snapshotRecords, String failure) {
        try {
            persist(records, snapshotRecords);
        } catch (IOException e) {
            throw unchecked(e, failure);
        }
    }

    private void persist(List<VolumeRecord> records, List<SnapshotRecord> snapshotRecords) throws IOException {
        RegistryContent next = persisted.with(records, snapshotRecords);
        registry.save(next);
        persisted = next;
    }

    /** Current volume records with {@code changed} added or replacing its namesake, and {@code removedId} left out. */
    private List<VolumeRecord> records(VolumeRecord changed, String removedId) {
        List<VolumeRecord> records = new ArrayList<>();
        for (OpenVolume volume : volumes.values()) {
            String id = volume.record().id();
            if (!id.equals(removedId) && (changed == null || !id.equals(changed.id()))) {
                records.add(volume.record());
            }
        }
        if (changed != null) {
            records.add(changed);
        }
        records.sort(Comparator.comparingInt(VolumeRecord::nsid));
        return records;
    }

    private List<SnapshotRecord> snapshotList(SnapshotRecord added, String removedId) {
        List<SnapshotRecord> records = new ArrayList<>();
        for (SnapshotRecord snapshot : snapshots.values()) {
            if (!snapshot.id().equals(removedId)) {
                records.add(snapshot);
            }
        }
        if (added != null) {
            records.add(added);
        }
        records.sort(Comparator.comparing(SnapshotRecord::createdAt).thenComparing(SnapshotRecord::id));
        return records;
    }

    private OpenVolume existing(String project, String id) {
        OpenVolume volume = id == null ? null : volumes.get(id);
        if (volume == null || !volume.record().project().equals(project)) {
            throw new VolumeNotFoundException(id);
        }
        return volume;
    }

    private SnapshotRecord existingSnapshot(String project, String id) {
        SnapshotRecord snapshot = id == null ? null : snapshots.get(id);
        if (snapshot == null || !snapshot.project().equals(project)) {
            throw new SnapshotNotFoundException(id);
        }
        return snapshot;
    }

    /** The smallest NSID not in use, so NSIDs of deleted volumes are reused and the range stays dense. */
    private int lowestFreeNsid() {
        Set<Integer> used = new HashSet<>();
        volumes.values().forEach(v -> used.add(v.record().nsid()));
        int nsid = 1;
        while (used.contains(nsid)) {
            nsid++;
        }
        if (nsid > Subsystem.MAX_NAMESPACES) {
            throw new VolumeConflictException(null,
                    "this node already serves " + Subsystem.MAX_NAMESPACES + " volumes, the most it can");
        }
        return nsid;
    }

    private String randomNguid() {
        byte[] nguid = new byte[16];
        random.nextBytes(nguid);
        return HexFormat.of().formatHex(nguid);
    }

    private Volume view(VolumeRecord record) {
        return new Volume(record.id(), record.name(), record.project(), record.sizeBytes(), record.compression(),
                record.replicas(), subsystem.nqn(), record.nsid(), record.uuid(), record.nguid(), record.hosts(),
                portals.get(), record.sourceSnapshotId(), record.sourceVolumeId(), space(record.mapId()),
                record.requireAuthentication());
    }

    private Snapshot view(SnapshotRecord record) {
        return new Snapshot(record.id(), record.name(), record.project(), record.sourceVolumeId(), record.sizeBytes(),
                record.createdAt(), space(record.mapId()));
    }

    private SpaceUsage space(int mapId) {
        try {
            MapStore.Usage usage = engine.usage(mapId);
            return new SpaceUsage(usage.mappedBytes(), usage.storedBytes(), usage.exclusiveBytes(),
                    usage.storedBytes() - usage.exclusiveBytes());
        } catch (IllegalStateException deletedMeanwhile) {
            return SpaceUsage.EMPTY;
        }
    }

    private void deleteMapQuietly(int mapId) {
        try {
            engine.delete(mapId);
        } catch (RuntimeException e) {
            LOG.warn("engine map {} could not be deleted now ({}); the next start deletes it", mapId, e.toString());
        }
    }

    private static RuntimeException unchecked(Exception e, String what) {
        if (e instanceof RuntimeException runtime) {
            return runtime;
        }
        return new UncheckedIOException(what + ": " + e.getMessage(), (IOException) e);
    }

    /** The UUID digits of the NQN, which make the serial as unique as the NQN. */
    private static String serialOf(String nqn) {
        String digits = nqn.substring(nqn.lastIndexOf(':') + 1).replace("-", "");
        return digits.length() > SERIAL_LENGTH ? digits.substring(0, SERIAL_LENGTH) : digits;
    }
}
