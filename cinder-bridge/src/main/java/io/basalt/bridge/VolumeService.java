package io.basalt.bridge;

import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.NodeStats;
import io.basalt.bridge.api.Qos;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.UpdateVolumeRequest;
import io.basalt.bridge.api.Volume;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The control plane behind the volume API, implemented by the storage service.
 *
 * <p>Every object belongs to a project (an opaque tenant name such as a Keystone project ID; the
 * API's un-prefixed routes use {@link #DEFAULT_PROJECT}). Names are unique within a project, IDs
 * are unique on the node. An object of another project is treated exactly as a missing one.
 *
 * <p>Requests arrive already validated for shape (names, sizes, NQNs); the service enforces what
 * only it can know: unique names, its own block size, free namespace IDs, free space. Methods may
 * block on I/O, so callers must not invoke them on an event loop. A failed call changes nothing.
 */
public interface VolumeService extends SnapshotGroupService {
    /**
     * The most host NQNs one volume allows: a project cannot make a node keep (and, for a replicated
     * volume, every node read from etcd) an access list without end.
     */
    int MAX_HOSTS = 64;

    /**
     * {@code hosts} with {@code hostNqn} added at the end; the same hosts if it is there already.
     *
     * @throws VolumeConflictException if volume {@code volumeId} already allows {@link #MAX_HOSTS} hosts
     */
    static List<String> withHost(String volumeId, List<String> hosts, String hostNqn) {
        if (hosts.contains(hostNqn)) {
            return hosts;
        }
        if (hosts.size() >= MAX_HOSTS) {
            throw new VolumeConflictException("hostNqn", "volume " + volumeId + " already allows " + MAX_HOSTS
                    + " hosts, the most a volume allows; remove one first");
        }
        List<String> more = new ArrayList<>(hosts);
        more.add(hostNqn);
        return List.copyOf(more);
    }

    String DEFAULT_PROJECT = "default";

    /**
     * Creates an empty volume, or one that starts as a copy of {@code sourceSnapshotId} or
     * {@code sourceVolumeId} (sharing its blocks; O(1)).
     *
     * @throws VolumeConflictException        if a volume with that name exists in the project
     * @throws NotFoundException              if the named source does not exist in the project
     * @throws InvalidVolumeRequestException  if the service cannot honour a field (block size, a size
     *                                        smaller than the source's, replicas on a single node)
     * @throws InsufficientCapacityException  if the node's over-subscription limit would be passed
     */
    Volume create(String project, CreateVolumeRequest request);

    /** The project's volumes, ordered by NSID; only those called {@code name} when it is not null. */
    List<Volume> list(String project, String name);

    Optional<Volume> find(String project, String id);

    /**
     * Grows the volume to {@code sizeBytes}; connected hosts see the new size without reconnecting.
     * Asking for the current size succeeds and changes nothing.
     *
     * @throws NotFoundException             if there is no such volume
     * @throws InvalidVolumeRequestException if {@code sizeBytes} is smaller than the current size
     * @throws InsufficientCapacityException if the node's over-subscription limit would be passed
     */
    Volume extend(String project, String id, long sizeBytes);

    /**
     * Renames the volume and/or switches its compression (for blocks written from now on). Asking for
     * what the volume already has succeeds and changes nothing.
     *
     * @throws NotFoundException        if there is no such volume
     * @throws VolumeConflictException  if another volume of the project has the new name
     */
    Volume update(String project, String id, UpdateVolumeRequest request);

    /**
     * Replaces the volume's I/O limits; they apply to its next commands on every connection.
     *
     * @throws NotFoundException if there is no such volume
     */
    Volume setQos(String project, String id, Qos qos);

    /**
     * Replaces the host NQNs allowed to see the volume.
     *
     * @throws NotFoundException if there is no such volume
     */
    Volume setHosts(String project, String id, List<String> hosts);

    /**
     * Allows one more host; allowing a host twice is not an error.
     *
     * @throws NotFoundException         if there is no such volume
     * @throws VolumeConflictException  if the volume already allows {@link #MAX_HOSTS} hosts
     */
    Volume addHost(String project, String id, String hostNqn);

    /** Stops allowing a host; removing a host that is not allowed is not an error. @throws NotFoundException */
    Volume removeHost(String project, String id, String hostNqn);

    /**
     * Deletes the volume and frees the blocks that no snapshot or clone still references. The
     * volume's snapshots survive it.
     *
     * @throws NotFoundException if there is no such volume
     */
    void delete(String project, String id);

    /**
     * Takes a read-only point-in-time image of a volume in O(1): it holds every write acknowledged
     * before this call and none issued after it returns.
     *
     * @throws NotFoundException        if the source volume does not exist in the project
     * @throws VolumeConflictException  if a snapshot with that name exists in the project
     */
    Snapshot createSnapshot(String project, CreateSnapshotRequest request);

    /** The project's snapshots, oldest first; only those called {@code name} when it is not null. */
    List<Snapshot> listSnapshots(String project, String name);

    Optional<Snapshot> findSnapshot(String project, String id);

    /**
     * Deletes the snapshot; volumes cloned from it keep their data.
     *
     * @throws NotFoundException       if there is no such snapshot
     * @throws VolumeConflictException if it is a member of a snapshot group, which is deleted as a whole
     */
    void deleteSnapshot(String project, String id);

    /**
     * Makes the volume's content that of one of its own snapshots again. If the snapshot is smaller
     * than the volume, the volume keeps its size and the tail reads as zeros.
     *
     * @throws NotFoundException             if the volume or snapshot does not exist in the project
     * @throws InvalidVolumeRequestException if the snapshot was not taken of this volume
     */
    Volume revert(String project, String volumeId, String snapshotId);

    /** Capacity and usage of the whole node. */
    NodeStats stats();
}
