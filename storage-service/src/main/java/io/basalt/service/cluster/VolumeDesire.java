package io.basalt.service.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.basalt.bridge.api.Qos;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * A volume's desired state, the JSON of {@code volumes/<id>} in etcd: written by the API of any node,
 * carried out by the node(s) in {@code nodeIds}.
 *
 * @param compression  null until the holding node applies its default; then what it is
 * @param nodeIds      the nodes holding a copy (one until replication exists)
 * @param uuid         namespace UUID, chosen at creation so every future replica shows the same one
 * @param nguid        namespace NGUID, likewise
 * @param generation   1 at creation, one more for every change: every node holding a copy reports the
 *                     generation it applied
 * @param primary      the node serving the volume, set by a promotion ({@code Promotion}); null means the first
 *                     of {@code nodeIds}, as {@code ReplicaRoles.primary} reads it
 * @param inSync       the nodes whose copies take every write (the primary's {@code ReplicatedStore} changes it
 *                     through {@code EtcdInSyncSet}); null means all of {@code nodeIds}
 * @param snapshots    a replicated volume's snapshots, each kept on every copy (a single-copy volume's stay
 *                     its node's alone and are not listed); always written, so that removing the last one
 *                     is not undone by {@link ClusterJson#encodeOver} carrying the stored list over
 * @param sourceSnapshotId the snapshot a clone was made of, on each of its nodes from their copy of it
 * @param sourceVolumeId the volume a clone was made of (through {@code sourceSnapshotId}, taken for it and
 *                     deleted once the clone is made)
 * @param revert       a replicated volume's revert to one of its snapshots, while it is under way; written
 *                     even when null, so that removing it is not undone by {@link ClusterJson#encodeOver}
 */
record VolumeDesire(String id, String project, String name, long sizeBytes, Boolean compression, int replicas,
                    List<String> nodeIds, List<String> hosts, boolean requireAuthentication, Qos qos, UUID uuid,
                    String nguid, long generation, @JsonInclude(JsonInclude.Include.NON_NULL) String primary,
                    @JsonInclude(JsonInclude.Include.NON_NULL) List<String> inSync, List<SnapshotEntry> snapshots,
                    @JsonInclude(JsonInclude.Include.NON_NULL) String sourceSnapshotId,
                    @JsonInclude(JsonInclude.Include.NON_NULL) String sourceVolumeId,
                    @JsonInclude(JsonInclude.Include.ALWAYS) RevertEntry revert) {
    /** A record that lacks what every node relies on is not read at all (the reader warns and leaves it out). */
    VolumeDesire {
        if (id == null || project == null || name == null || uuid == null || nguid == null || nodeIds == null
                || nodeIds.isEmpty() || hosts == null) {
            throw new IllegalArgumentException("a volume record needs an id, project, name, uuid, nguid, hosts and"
                    + " at least one node");
        }
        nodeIds = List.copyOf(nodeIds);
        hosts = List.copyOf(hosts);
        inSync = inSync == null ? null : List.copyOf(inSync);
        snapshots = snapshots == null ? List.of() : List.copyOf(snapshots);
        qos = qos == null ? Qos.UNLIMITED : qos;
    }

    /** The primary: the node that serves the volume to hosts and forwards writes to the other copies. */
    String holder() {
        return primary == null ? nodeIds.getFirst() : primary;
    }

    /** The nodes other than the primary holding a copy. */
    List<String> secondaries() {
        return nodeIds.stream().filter(node -> !node.equals(holder())).toList();
    }

    /** The nodes whose copies take every write, the primary included. */
    List<String> inSyncNodes() {
        return inSync == null ? nodeIds : inSync;
    }

    VolumeDesire next(String name, long sizeBytes, Boolean compression, List<String> hosts, Qos qos) {
        return new VolumeDesire(id, project, name, sizeBytes, compression, replicas, nodeIds, hosts,
                requireAuthentication, qos, uuid, nguid, generation + 1, primary, inSync, snapshots, sourceSnapshotId, sourceVolumeId, revert);
    }

    /** The next generation, with {@code revert} instead (null: none under way). */
    VolumeDesire withRevert(RevertEntry revert) {
        return new VolumeDesire(id, project, name, sizeBytes, compression, replicas, nodeIds, hosts,
                requireAuthentication, qos, uuid, nguid, generation + 1, primary, inSync, snapshots, sourceSnapshotId,
                sourceVolumeId, revert);
    }

    /** The next generation, with {@code snapshots} instead. */
    VolumeDesire withSnapshots(List<SnapshotEntry> snapshots) {
        return new VolumeDesire(id, project, name, sizeBytes, compression, replicas, nodeIds, hosts,
                requireAuthentication, qos, uuid, nguid, generation + 1, primary, inSync, snapshots, sourceSnapshotId,
                sourceVolumeId, revert);
    }

    /** The next generation, with {@code entry} in place of the snapshot of its id, or added. */
    VolumeDesire withSnapshot(SnapshotEntry entry) {
        List<SnapshotEntry> changed = new ArrayList<>(snapshots.stream().filter(s -> !s.id().equals(entry.id())).toList());
        changed.add(entry);
        return withSnapshots(changed);
    }

    /** The next generation, without the snapshot {@code snapshotId}. */
    VolumeDesire withoutSnapshot(String snapshotId) {
        return withSnapshots(snapshots.stream().filter(s -> !s.id().equals(snapshotId)).toList());
    }

    Optional<SnapshotEntry> snapshot(String snapshotId) {
        return snapshots.stream().filter(s -> s.id().equals(snapshotId)).findFirst();
    }

    /** Whether every copy takes every write: snapshots and reverts are made only then, on every copy. */
    boolean allInSync() {
        return inSyncNodes().containsAll(nodeIds);
    }

    boolean sameAs(VolumeDesire other) {
        return name.equals(other.name) && sizeBytes == other.sizeBytes
                && Objects.equals(compression, other.compression)
                && Set.copyOf(hosts).equals(Set.copyOf(other.hosts)) && qos.equals(other.qos)
                && snapshots.equals(other.snapshots) && Objects.equals(revert, other.revert);
    }
}
