package io.basalt.bridge;

import io.basalt.bridge.api.CreateSnapshotGroupRequest;
import io.basalt.bridge.api.SnapshotGroup;

import java.util.List;
import java.util.Optional;

/**
 * Snapshot groups: snapshots of several volumes of a project taken at one instant. Project scoping,
 * name uniqueness and blocking are as in {@link VolumeService}; a failed call changes nothing.
 */
public interface SnapshotGroupService {

    /**
     * Snapshots every named volume at one instant: each member holds every write acknowledged before
     * this call and none issued after it returns, in all volumes alike.
     *
     * @throws VolumeNotFoundException       if a named volume does not exist in the project
     * @throws VolumeConflictException       if a snapshot group, or a snapshot, with that name exists in
     *                                       the project (members are called {@code <name>.<n>})
     * @throws InvalidVolumeRequestException if a volume is named twice, or none or too many are named
     */
    SnapshotGroup createSnapshotGroup(String project, CreateSnapshotGroupRequest request);

    /** The project's snapshot groups, oldest first; only those called {@code name} when it is not null. */
    List<SnapshotGroup> listSnapshotGroups(String project, String name);

    Optional<SnapshotGroup> findSnapshotGroup(String project, String id);

    /** Deletes the group and its member snapshots; volumes made from them keep their data. @throws NotFoundException */
    void deleteSnapshotGroup(String project, String id);
}
