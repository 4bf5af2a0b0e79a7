package io.basalt.service.cluster;

import io.basalt.bridge.api.Qos;

import java.util.List;
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
 * @param generation   1 at creation, one more for every change: the holder reports the generation it applied
 */
record VolumeDesire(String id, String project, String name, long sizeBytes, Boolean compression, int replicas,
                    List<String> nodeIds, List<String> hosts, boolean requireAuthentication, Qos qos, UUID uuid,
                    String nguid, long generation) {
    /** A record that lacks what every node relies on is not read at all (the reader warns and leaves it out). */
    VolumeDesire {
        if (id == null || project == null || name == null || uuid == null || nguid == null || nodeIds == null
                || nodeIds.isEmpty() || hosts == null) {
            throw new IllegalArgumentException("a volume record needs an id, project, name, uuid, nguid, hosts and"
                    + " at least one node");
        }
        nodeIds = List.copyOf(nodeIds);
        hosts = List.copyOf(hosts);
        qos = qos == null ? Qos.UNLIMITED : qos;
    }

    String holder() {
        return nodeIds.getFirst();
    }

    VolumeDesire next(String name, long sizeBytes, Boolean compression, List<String> hosts, Qos qos) {
        return new VolumeDesire(id, project, name, sizeBytes, compression, replicas, nodeIds, hosts,
                requireAuthentication, qos, uuid, nguid, generation + 1);
    }

    boolean sameAs(VolumeDesire other) {
        return name.equals(other.name) && sizeBytes == other.sizeBytes
                && Objects.equals(compression, other.compression)
                && Set.copyOf(hosts).equals(Set.copyOf(other.hosts)) && qos.equals(other.qos);
    }
}
