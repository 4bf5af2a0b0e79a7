package io.basalt.service.volume;

import io.basalt.service.dataplane.QosLimits;

import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * What the registry keeps about one volume.
 *
 * @param id               identifier
 * @param name             the caller's name, unique within the project
 * @param project          owning project
 * @param sizeBytes        capacity
 * @param blockSize        logical block size, fixed when the volume is created
 * @param nsid             namespace ID in the node's subsystem
 * @param uuid             namespace UUID
 * @param nguid            namespace GUID, 32 hex digits
 * @param hosts            host NQNs allowed to see the namespace
 * @param compression      whether the engine compresses its blocks
 * @param replicas         copies kept (1 on a single node)
 * @param mapId            the engine map holding its blocks
 * @param sourceSnapshotId snapshot it was created from, or null
 * @param sourceVolumeId   volume it was cloned from, or null
 * @param requireAuthentication whether only hosts with a DH-HMAC-CHAP secret see it; never null (a registry
 *                         written before the field existed has none, which reads as false)
 * @param qos              I/O limits; never null (a registry written before QoS existed has none, which
 *                         reads as unlimited)
 */
public record VolumeRecord(String id, String name, String project, long sizeBytes, int blockSize, int nsid, UUID uuid,
                           String nguid, List<String> hosts, boolean compression, int replicas, int mapId,
                           String sourceSnapshotId, String sourceVolumeId, Boolean requireAuthentication,
                           QosLimits qos) {

    public VolumeRecord {
        hosts = List.copyOf(hosts);
        requireAuthentication = Boolean.TRUE.equals(requireAuthentication);
        qos = qos == null ? QosLimits.UNLIMITED : qos;
    }

    VolumeRecord withHosts(List<String> newHosts) {
        return new VolumeRecord(id, name, project, sizeBytes, blockSize, nsid, uuid, nguid, newHosts, compression,
                replicas, mapId, sourceSnapshotId, sourceVolumeId, requireAuthentication, qos);
    }

    VolumeRecord withSize(long newSizeBytes) {
        return new VolumeRecord(id, name, project, newSizeBytes, blockSize, nsid, uuid, nguid, hosts, compression,
                replicas, mapId, sourceSnapshotId, sourceVolumeId, requireAuthentication, qos);
    }

    VolumeRecord withNameAndCompression(String newName, boolean newCompression) {
        return new VolumeRecord(id, newName, project, sizeBytes, blockSize, nsid, uuid, nguid, hosts, newCompression,
                replicas, mapId, sourceSnapshotId, sourceVolumeId, requireAuthentication, qos);
    }

    VolumeRecord withQos(QosLimits newQos) {
        return new VolumeRecord(id, name, project, sizeBytes, blockSize, nsid, uuid, nguid, hosts, compression,
                replicas, mapId, sourceSnapshotId, sourceVolumeId, requireAuthentication, newQos);
    }

    byte[] nguidBytes() {
        return HexFormat.of().parseHex(nguid);
    }
}
