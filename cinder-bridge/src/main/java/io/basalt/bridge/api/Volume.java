package io.basalt.bridge.api;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;
import java.util.UUID;

/**
 * A volume as the API shows it: what a host needs to find and connect to it, and what it uses.
 *
 * @param id               the volume's identifier, chosen by the service
 * @param name             the caller's name, unique within the project
 * @param project          the project that owns the volume
 * @param sizeBytes        capacity in bytes
 * @param compression      whether its blocks are compressed
 * @param replicas         copies kept
 * @param nqn              NQN of the subsystem that exports the volume
 * @param nsid             namespace ID of the volume within that subsystem
 * @param uuid             namespace UUID (what hosts see as the namespace's UUID)
 * @param nguid            namespace globally unique identifier, 32 lower-case hex digits
 * @param hosts            host NQNs allowed to see the volume
 * @param portals          addresses at which the subsystem is served
 * @param sourceSnapshotId snapshot the volume was created from, if any
 * @param sourceVolumeId   volume the volume was cloned from, if any
 * @param space            physical space used
 * @param requireAuthentication whether only hosts with a DH-HMAC-CHAP secret, which they must use, see it
 * @param qos              I/O limits (all 0 when it has none)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Volume(String id, String name, String project, long sizeBytes, boolean compression, int replicas,
                     String nqn, int nsid, UUID uuid, String nguid, List<String> hosts, List<Portal> portals,
                     String sourceSnapshotId, String sourceVolumeId, SpaceUsage space, boolean requireAuthentication,
                     Qos qos) {

    public Volume {
        hosts = List.copyOf(hosts);
        portals = List.copyOf(portals);
        qos = qos == null ? Qos.UNLIMITED : qos;
    }

    /** A volume without I/O limits. */
    public Volume(String id, String name, String project, long sizeBytes, boolean compression, int replicas,
                  String nqn, int nsid, UUID uuid, String nguid, List<String> hosts, List<Portal> portals,
                  String sourceSnapshotId, String sourceVolumeId, SpaceUsage space, boolean requireAuthentication) {
        this(id, name, project, sizeBytes, compression, replicas, nqn, nsid, uuid, nguid, hosts, portals,
                sourceSnapshotId, sourceVolumeId, space, requireAuthentication, null);
    }

    /** A volume that does not require authentication and has no I/O limits. */
    public Volume(String id, String name, String project, long sizeBytes, boolean compression, int replicas,
                  String nqn, int nsid, UUID uuid, String nguid, List<String> hosts, List<Portal> portals,
                  String sourceSnapshotId, String sourceVolumeId, SpaceUsage space) {
        this(id, name, project, sizeBytes, compression, replicas, nqn, nsid, uuid, nguid, hosts, portals,
                sourceSnapshotId, sourceVolumeId, space, false);
    }
}
