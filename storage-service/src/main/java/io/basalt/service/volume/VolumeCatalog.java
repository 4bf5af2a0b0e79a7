package io.basalt.service.volume;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's volume, snapshot and snapshot group records, in memory and in the registry file. Every change is saved
 * (atomically) before it becomes visible here, so what readers see is always what a restart would
 * find. Changes come from the volume manager, one at a time; reads need no lock.
 */
final class VolumeCatalog {
    private static final Comparator<SnapshotRecord> SNAPSHOT_ORDER =
            Comparator.comparing(SnapshotRecord::createdAt).thenComparing(SnapshotRecord::id);
    private static final Comparator<SnapshotGroupRecord> GROUP_ORDER =
            Comparator.comparing(SnapshotGroupRecord::createdAt).thenComparing(SnapshotGroupRecord::id);
    private final VolumeRegistry registry;
    private final Map<String, VolumeRecord> volumes = new ConcurrentHashMap<>();
    private final Map<String, SnapshotRecord> snapshots = new ConcurrentHashMap<>();
    private final Map<String, SnapshotGroupRecord> snapshotGroups = new ConcurrentHashMap<>();
    /** What the registry file holds; changed by one thread at a time (the manager's mutations). */
    private RegistryContent persisted;

    VolumeCatalog(VolumeRegistry registry, RegistryContent persisted) {
        this.registry = registry;
        this.persisted = persisted;
    }

    RegistryContent persisted() {
        return persisted;
    }

    VolumeRecord volume(String id) {
        return id == null ? null : volumes.get(id);
    }

    SnapshotRecord snapshot(String id) {
        return id == null ? null : snapshots.get(id);
    }

    Collection<VolumeRecord> volumes() {
        return volumes.values();
    }

    Collection<SnapshotRecord> snapshots() {
        return snapshots.values();
    }

    SnapshotGroupRecord snapshotGroup(String id) {
        return id == null ? null : snapshotGroups.get(id);
    }

    Collection<SnapshotGroupRecord> snapshotGroups() {
        return snapshotGroups.values();
    }

    /** The group the snapshot is a member of, or null. */
    SnapshotGroupRecord groupOf(String snapshotId) {
        return snapshotGroups.values().stream().filter(g -> g.snapshotIds().contains(snapshotId))
                .findFirst().orElse(null);
    }

    /** Bytes provisioned to every volume. */
    long provisionedBytes() {
        return volumes.values().stream().mapToLong(VolumeRecord::sizeBytes).sum();
    }

    /** Shows records restored at start (already saved), and the saved snapshot groups. */
    void restored(List<VolumeRecord> restoredVolumes, List<SnapshotRecord> restoredSnapshots) {
        restoredVolumes.forEach(v -> volumes.put(v.id(), v));
        restoredSnapshots.forEach(s -> snapshots.put(s.id(), s));
        persisted.snapshotGroups().forEach(g -> snapshotGroups.put(g.id(), g));
    }

    /** Saves a new or changed volume, then shows it. */
    void putVolume(VolumeRecord record, int nextNsid) {
        save(withVolume(record, null), snapshotList(null, null), nextNsid);
        volumes.put(record.id(), record);
    }

    void removeVolume(String id, int nextNsid) {
        save(withVolume(null, id), snapshotList(null, null), nextNsid);
        volumes.remove(id);
    }

    void putSnapshot(SnapshotRecord record) {
        save(withVolume(null, null), snapshotList(record, null), persisted.nextNsid());
        snapshots.put(record.id(), record);
    }

    void removeSnapshot(String id) {
        save(withVolume(null, null), snapshotList(null, id), persisted.nextNsid());
        snapshots.remove(id);
    }

    /** Saves a new group with its member snapshots in one registry write, then shows them. */
    void putSnapshotGroup(SnapshotGroupRecord group, List<SnapshotRecord> members) {
        List<SnapshotRecord> allSnapshots = snapshotList(null, null);
        allSnapshots.addAll(members);
        allSnapshots.sort(SNAPSHOT_ORDER);
        List<SnapshotGroupRecord> groups = new ArrayList<>(snapshotGroups.values());
        groups.add(group);
        groups.sort(GROUP_ORDER);
        saveContent(persisted.withSnapshotGroups(allSnapshots, groups));
        members.forEach(s -> snapshots.put(s.id(), s));
        snapshotGroups.put(group.id(), group);
    }

    /** Removes a group and its member snapshots in one registry write. */
    void removeSnapshotGroup(SnapshotGroupRecord group) {
        List<SnapshotRecord> kept = snapshotList(null, null);
        kept.removeIf(s -> group.snapshotIds().contains(s.id()));
        List<SnapshotGroupRecord> groups = new ArrayList<>(snapshotGroups.values());
        groups.removeIf(g -> g.id().equals(group.id()));
        groups.sort(GROUP_ORDER);
        saveContent(persisted.withSnapshotGroups(kept, groups));
        snapshotGroups.remove(group.id());
        group.snapshotIds().forEach(snapshots::remove);
    }

    /** Replaces the whole registry content (at start, to record what recovery completed). */
    void saveAll(List<VolumeRecord> allVolumes, List<SnapshotRecord> allSnapshots, int nextNsid) {
        save(allVolumes, allSnapshots, nextNsid);
    }

    private void save(List<VolumeRecord> records, List<SnapshotRecord> snapshotRecords, int nextNsid) {
        saveContent(persisted.with(records, snapshotRecords, nextNsid));
    }

    private void saveContent(RegistryContent next) {
        try {
            registry.save(next);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the volume registry " + registry.file() + ": "
                    + e.getMessage(), e);
        }
        persisted = next;
    }

    /** Current volume records with {@code changed} added or replacing its namesake, and {@code removedId} left out. */
    private List<VolumeRecord> withVolume(VolumeRecord changed, String removedId) {
        List<VolumeRecord> records = new ArrayList<>();
        for (VolumeRecord record : volumes.values()) {
            if (!record.id().equals(removedId) && (changed == null || !record.id().equals(changed.id()))) {
                records.add(record);
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
        records.sort(SNAPSHOT_ORDER);
        return records;
    }
}
