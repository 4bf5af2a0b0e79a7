package io.basalt.bridge.api;

import java.util.List;

/**
 * Body of {@code POST /api/v1/volumes}.
 *
 * @param name             unique name within the project, 1..64 characters of {@code [A-Za-z0-9._-]}
 * @param sizeBytes        capacity: positive, a multiple of 512, at most 64 TiB; with a source it may be
 *                         0 (then the source's size is used) but never smaller than the source
 * @param hosts            host NQNs allowed to see the volume; may be empty
 * @param compression      whether the engine compresses the volume's blocks; null means the node's default
 * @param replicas         copies kept of the volume (1..3); null means 1. A single node serves only 1.
 * @param sourceSnapshotId snapshot whose content the new volume starts with, or null
 * @param sourceVolumeId   volume whose current content the new volume starts with, or null
 * @param requireAuthentication whether only hosts that authenticate (DH-HMAC-CHAP, a secret set for them)
 *                         may see the volume; null means false
 * @param qos              I/O limits; null means none
 */
public record CreateVolumeRequest(String name, long sizeBytes, List<String> hosts, Boolean compression,
                                  Integer replicas, String sourceSnapshotId, String sourceVolumeId,
                                  Boolean requireAuthentication, Qos qos) {

    public CreateVolumeRequest {
        hosts = List.copyOf(hosts);
        qos = qos == null ? Qos.UNLIMITED : qos;
    }

    /** A request without I/O limits. */
    public CreateVolumeRequest(String name, long sizeBytes, List<String> hosts, Boolean compression,
                               Integer replicas, String sourceSnapshotId, String sourceVolumeId,
                               Boolean requireAuthentication) {
        this(name, sizeBytes, hosts, compression, replicas, sourceSnapshotId, sourceVolumeId, requireAuthentication,
                null);
    }

    /** A request that leaves authentication as the node's default (not required). */
    public CreateVolumeRequest(String name, long sizeBytes, List<String> hosts, Boolean compression,
                               Integer replicas, String sourceSnapshotId, String sourceVolumeId) {
        this(name, sizeBytes, hosts, compression, replicas, sourceSnapshotId, sourceVolumeId, null);
    }

    public boolean authenticationRequired() {
        return Boolean.TRUE.equals(requireAuthentication);
    }

    /** An empty volume with the node's defaults. */
    public CreateVolumeRequest(String name, long sizeBytes, List<String> hosts) {
        this(name, sizeBytes, hosts, null, null, null, null);
    }
}
