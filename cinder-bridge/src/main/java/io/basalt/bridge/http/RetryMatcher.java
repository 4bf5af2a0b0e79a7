package io.basalt.bridge.http;

import io.basalt.bridge.api.CreateSnapshotGroupRequest;
import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.SnapshotGroup;
import io.basalt.bridge.api.Volume;

import java.util.Objects;
import java.util.Set;

/**
 * Decides whether a create that clashes with an existing name is a retry of the request that made
 * the existing object (a client that lost the first answer), which is answered with that object,
 * rather than a different request, which is a conflict.
 */
final class RetryMatcher {
    private RetryMatcher() {
    }

    /**
     * Fields the request left to the node (a size of 0 with a source, no compression setting) match
     * whatever the node chose; hosts are compared as sets because the API keeps a repeated host once.
     */
    static boolean isRetryOf(CreateVolumeRequest request, Volume volume) {
        boolean hasSource = request.sourceSnapshotId() != null || request.sourceVolumeId() != null;
        int replicas = request.replicas() == null ? 1 : request.replicas();
        return request.name().equals(volume.name())
                && (request.sizeBytes() == volume.sizeBytes() || request.sizeBytes() == 0 && hasSource)
                && (request.compression() == null || request.compression() == volume.compression())
                && replicas == volume.replicas()
                && request.authenticationRequired() == volume.requireAuthentication()
                && request.qos().equals(volume.qos())
                && Objects.equals(request.sourceSnapshotId(), volume.sourceSnapshotId())
                && Objects.equals(request.sourceVolumeId(), volume.sourceVolumeId())
                && Set.copyOf(request.hosts()).equals(Set.copyOf(volume.hosts()));
    }

    static boolean isRetryOf(CreateSnapshotRequest request, Snapshot snapshot) {
        return request.name().equals(snapshot.name()) && request.sourceVolumeId().equals(snapshot.sourceVolumeId());
    }

    /** The same volumes in the same order: the members are listed in the order the request named them. */
    static boolean isRetryOf(CreateSnapshotGroupRequest request, SnapshotGroup group) {
        return request.name().equals(group.name())
                && request.volumeIds().equals(group.snapshots().stream().map(Snapshot::sourceVolumeId).toList());
    }
}
