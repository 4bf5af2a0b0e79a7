package io.basalt.bridge.http;

import io.basalt.bridge.InsufficientCapacityException;
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
import io.basalt.bridge.api.Qos;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.SnapshotGroup;
import io.basalt.bridge.api.SpaceUsage;
import io.basalt.bridge.api.UpdateVolumeRequest;
import io.basalt.bridge.api.Volume;
import io.vertx.core.Context;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * A single-node volume service kept in maps. Every method is synchronized, as the port promises
 * that the service serialises what must be serialised. Hooks make it fail and count calls made on
 * an event loop.
 */
final class InMemoryVolumeService implements VolumeService {
    static final String NQN = "nqn.2026-11.io.basalt:subsystem:test";
    static final Portal PORTAL = new Portal("tcp", "192.0.2.10", 4420);
    static final long DEFAULT_CAPACITY = 1L << 50;

    private final Map<String, Volume> volumes = new LinkedHashMap<>();
    private final Map<String, Snapshot> snapshots = new LinkedHashMap<>();
    private final Map<String, SnapshotGroup> groups = new LinkedHashMap<>();
    private int nextNsid = 1;
    private long capacityBytes = DEFAULT_CAPACITY;
    private final AtomicInteger eventLoopCalls = new AtomicInteger();
    private final AtomicReference<RuntimeException> nextFailure = new AtomicReference<>();

    @Override
    public synchronized Volume create(String project, CreateVolumeRequest request) {
        enter();
        if (volumes.values().stream().anyMatch(v -> v.project().equals(project) && v.name().equals(request.name()))) {
            throw new VolumeConflictException("name", "a volume named " + request.name() + " already exists");
        }
        long sourceSize = 0;
        if (request.sourceSnapshotId() != null) {
            sourceSize = snapshot(project, request.sourceSnapshotId())
                    .orElseThrow(() -> new SnapshotNotFoundException(request.sourceSnapshotId())).sizeBytes();
        }
        if (request.sourceVolumeId() != null) {
            sourceSize = volume(project, request.sourceVolumeId())
                    .orElseThrow(() -> new VolumeNotFoundException(request.sourceVolumeId())).sizeBytes();
        }
        long size = request.sizeBytes() == 0 ? sourceSize : request.sizeBytes();
        if (size < sourceSize) {
            throw new InvalidVolumeRequestException("sizeBytes", "sizeBytes is smaller than the source's " + sourceSize);
        }
        if (request.replicas() != null && request.replicas() != 1) {
            throw new InvalidVolumeRequestException("replicas", "a single node keeps 1 replica");
        }
        reserve(size);
        Volume volume = new Volume(UUID.randomUUID().toString(), request.name(), project, size,
                request.compression() != null && request.compression(), 1, NQN, nextNsid++, UUID.randomUUID(),
                "00112233445566778899aabbccddeeff", List.copyOf(new LinkedHashSet<>(request.hosts())),
                List.of(PORTAL), request.sourceSnapshotId(), request.sourceVolumeId(), SpaceUsage.EMPTY,
                request.authenticationRequired(), request.qos());
        volumes.put(volume.id(), volume);
        return volume;
    }

    @Override
    public synchronized List<Volume> list(String project, String name) {
        enter();
        return volumes.values().stream()
                .filter(v -> v.project().equals(project) && (name == null || v.name().equals(name)))
                .sorted(Comparator.comparingInt(Volume::nsid))
                .toList();
    }

    @Override
    public synchronized Optional<Volume> find(String project, String id) {
        enter();
        return volume(project, id);
    }

    @Override
    public synchronized Volume extend(String project, String id, long sizeBytes) {
        enter();
        Volume volume = volume(project, id).orElseThrow(() -> new VolumeNotFoundException(id));
        if (sizeBytes < volume.sizeBytes()) {
            throw new InvalidVolumeRequestException("sizeBytes", "sizeBytes " + sizeBytes
                    + " is smaller than the volume's " + volume.sizeBytes());
        }
        reserve(sizeBytes - volume.sizeBytes());
        return replace(volume, v -> new Volume(v.id(), v.name(), v.project(), sizeBytes, v.compression(),
                v.replicas(), v.nqn(), v.nsid(), v.uuid(), v.nguid(), v.hosts(), v.portals(), v.sourceSnapshotId(),
                v.sourceVolumeId(), v.space(), v.requireAuthentication(), v.qos()));
    }

    @Override
    public synchronized Volume update(String project, String id, UpdateVolumeRequest request) {
        enter();
        Volume volume = volume(project, id).orElseThrow(() -> new VolumeNotFoundException(id));
        String name = request.name() == null ? volume.name() : request.name();
        if (volumes.values().stream().anyMatch(v -> v.project().equals(project) && v.name().equals(name)
                && !v.id().equals(id))) {
            throw new VolumeConflictException("name", "a volume named " + name + " already exists");
        }
        boolean compression = request.compression() == null ? volume.compression() : request.compression();
        return replace(volume, v -> new Volume(v.id(), name, v.project(), v.sizeBytes(), compression,
                v.replicas(), v.nqn(), v.nsid(), v.uuid(), v.nguid(), v.hosts(), v.portals(), v.sourceSnapshotId(),
                v.sourceVolumeId(), v.space(), v.requireAuthentication(), v.qos()));
    }

    @Override
    public synchronized Volume setQos(String project, String id, Qos qos) {
        enter();
        Volume volume = volume(project, id).orElseThrow(() -> new VolumeNotFoundException(id));
        return replace(volume, v -> new Volume(v.id(), v.name(), v.project(), v.sizeBytes(), v.compression(),
                v.replicas(), v.nqn(), v.nsid(), v.uuid(), v.nguid(), v.hosts(), v.portals(), v.sourceSnapshotId(),
                v.sourceVolumeId(), v.space(), v.requireAuthentication(), qos));
    }

    @Override
    public synchronized Volume setHosts(String project, String id, List<String> hosts) {
        enter();
        return withHosts(project, id, hosts);
    }

    @Override
    public synchronized Volume addHost(String project, String id, String hostNqn) {
        enter();
        List<String> hosts = volume(project, id).orElseThrow(() -> new VolumeNotFoundException(id)).hosts();
        return withHosts(project, id, VolumeService.withHost(id, hosts, hostNqn));
    }

    @Override
    public synchronized Volume removeHost(String project, String id, String hostNqn) {
        enter();
        List<String> hosts = new ArrayList<>(volume(project, id).orElseThrow(() -> new VolumeNotFoundException(id)).hosts());
        hosts.remove(hostNqn);
        return withHosts(project, id, hosts);
    }

    @Override
    public synchronized void delete(String project, String id) {
        enter();
        volume(project, id).orElseThrow(() -> new VolumeNotFoundException(id));
        volumes.remove(id);
    }

    @Override
    public synchronized Snapshot createSnapshot(String project, CreateSnapshotRequest request) {
        enter();
        Volume source = volume(project, request.sourceVolumeId())
                .orElseThrow(() -> new VolumeNotFoundException(request.sourceVolumeId()));
        if (snapshots.values().stream().anyMatch(s -> s.project().equals(project) && s.name().equals(request.name()))) {
            throw new VolumeConflictException("name", "a snapshot named " + request.name() + " already exists");
        }
        Snapshot snapshot = new Snapshot(UUID.randomUUID().toString(), request.name(), project, source.id(),
                source.sizeBytes(), Instant.now(), SpaceUsage.EMPTY);
        snapshots.put(snapshot.id(), snapshot);
        return snapshot;
    }

    @Override
    public synchronized List<Snapshot> listSnapshots(String project, String name) {
        enter();
        return snapshots.values().stream()
                .filter(s -> s.project().equals(project) && (name == null || s.name().equals(name)))
                .toList();
    }

    @Override
    public synchronized Optional<Snapshot> findSnapshot(String project, String id) {
        enter();
        return snapshot(project, id);
    }

    @Override
    public synchronized void deleteSnapshot(String project, String id) {
        enter();
        snapshot(project, id).orElseThrow(() -> new SnapshotNotFoundException(id));
        snapshots.remove(id);
    }

    /** Members are snapshots like any other, called {@code <group>.<n>}; content is not modelled. */
    @Override
    public synchronized SnapshotGroup createSnapshotGroup(String project, CreateSnapshotGroupRequest request) {
        enter();
        if (groups.values().stream().anyMatch(g -> g.project().equals(project) && g.name().equals(request.name()))) {
            throw new VolumeConflictException("name", "a snapshot group named " + request.name() + " already exists");
        }
        List<Volume> sources = request.volumeIds().stream()
                .map(id -> volume(project, id).orElseThrow(() -> new VolumeNotFoundException(id))).toList();
        List<Snapshot> members = new java.util.ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            members.add(new Snapshot(UUID.randomUUID().toString(), request.name() + "." + i, project,
                    sources.get(i).id(), sources.get(i).sizeBytes(), Instant.now(), SpaceUsage.EMPTY));
        }
        members.forEach(m -> snapshots.put(m.id(), m));
        SnapshotGroup group = new SnapshotGroup(UUID.randomUUID().toString(), request.name(), project,
                Instant.now(), members);
        groups.put(group.id(), group);
        return group;
    }

    @Override
    public synchronized List<SnapshotGroup> listSnapshotGroups(String project, String name) {
        enter();
        return groups.values().stream()
                .filter(g -> g.project().equals(project) && (name == null || g.name().equals(name)))
                .toList();
    }

    @Override
    public synchronized Optional<SnapshotGroup> findSnapshotGroup(String project, String id) {
        enter();
        return Optional.ofNullable(groups.get(id)).filter(g -> g.project().equals(project));
    }

    @Override
    public synchronized void deleteSnapshotGroup(String project, String id) {
        enter();
        SnapshotGroup group = findSnapshotGroup(project, id).orElseThrow(() -> new SnapshotGroupNotFoundException(id));
        group.snapshots().forEach(m -> snapshots.remove(m.id()));
        groups.remove(id);
    }

    /** Content is not modelled; a revert checks its arguments and leaves the volume as it is. */
    @Override
    public synchronized Volume revert(String project, String volumeId, String snapshotId) {
        enter();
        Volume volume = volume(project, volumeId).orElseThrow(() -> new VolumeNotFoundException(volumeId));
        Snapshot snapshot = snapshot(project, snapshotId).orElseThrow(() -> new SnapshotNotFoundException(snapshotId));
        if (!snapshot.sourceVolumeId().equals(volumeId)) {
            throw new InvalidVolumeRequestException("snapshotId", "snapshot " + snapshotId + " was not taken of volume " + volumeId);
        }
        return volume;
    }

    @Override
    public synchronized NodeStats stats() {
        enter();
        return new NodeStats(capacityBytes, capacityBytes, 0, provisioned(), 1.0, 1.0, 1.0,
                volumes.size(), snapshots.size(), null, capacityBytes, "none", List.of(), null);
    }

    /** The next service call throws {@code failure} before changing anything. */
    void failNextCall(RuntimeException failure) {
        nextFailure.set(failure);
    }

    synchronized void setCapacity(long bytes) {
        capacityBytes = bytes;
    }

    int eventLoopCalls() {
        return eventLoopCalls.get();
    }

    synchronized void clear() {
        volumes.clear();
        snapshots.clear();
        groups.clear();
        nextNsid = 1;
        capacityBytes = DEFAULT_CAPACITY;
        eventLoopCalls.set(0);
    }

    private Optional<Volume> volume(String project, String id) {
        return Optional.ofNullable(volumes.get(id)).filter(v -> v.project().equals(project));
    }

    private Optional<Snapshot> snapshot(String project, String id) {
        return Optional.ofNullable(snapshots.get(id)).filter(s -> s.project().equals(project));
    }

    private Volume withHosts(String project, String id, List<String> hosts) {
        Volume volume = volume(project, id).orElseThrow(() -> new VolumeNotFoundException(id));
        return replace(volume, v -> new Volume(v.id(), v.name(), v.project(), v.sizeBytes(), v.compression(),
                v.replicas(), v.nqn(), v.nsid(), v.uuid(), v.nguid(), hosts, v.portals(), v.sourceSnapshotId(),
                v.sourceVolumeId(), v.space(), v.requireAuthentication(), v.qos()));
    }

    private Volume replace(Volume volume, UnaryOperator<Volume> change) {
        Volume changed = change.apply(volume);
        volumes.put(volume.id(), changed);
        return changed;
    }

    private void reserve(long bytes) {
        if (provisioned() + bytes > capacityBytes) {
            throw new InsufficientCapacityException("provisioning " + bytes + " more bytes would pass the node's "
                    + capacityBytes + " bytes");
        }
    }

    private long provisioned() {
        return volumes.values().stream().mapToLong(Volume::sizeBytes).sum();
    }

    private void enter() {
        if (Context.isOnEventLoopThread()) {
            eventLoopCalls.incrementAndGet();
        }
        RuntimeException failure = nextFailure.getAndSet(null);
        if (failure != null) {
            throw failure;
        }
    }
}
