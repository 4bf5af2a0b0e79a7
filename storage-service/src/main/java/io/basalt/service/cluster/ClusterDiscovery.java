package io.basalt.service.cluster;

import io.basalt.bridge.api.Portal;
import io.basalt.cluster.Cluster;
import io.basalt.cluster.volumes.VolumeRecords;
import io.basalt.nvmetcp.nvmet.SubsystemPortal;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the discovery controller of any node of a cluster lists for a host beside the node's own
 * subsystem: every NVMe/TCP portal of every volume whose hosts name it, with the subsystem NQN the
 * volume's holder reported. Answered from the node's watched copy of etcd, never waiting for etcd
 * (the target asks on an event loop).
 */
final class ClusterDiscovery {
    private static final String TCP = "tcp";

    private ClusterDiscovery() {
    }

    static List<SubsystemPortal> portals(Cluster joined, String hostNqn) {
        Map<String, VolumeRecords.Stored> states = joined.volumes().states();
        Set<SubsystemPortal> portals = new LinkedHashSet<>();
        joined.volumes().desired().forEach((id, stored) -> ClusterJson.decode(id, stored.json(), VolumeDesire.class)
                .filter(desire -> desire.hosts().contains(hostNqn))
                .ifPresent(desire -> {
                    VolumeReport report = ClusterVolumes.report(id, states.get(id));
                    if (report == null || report.nqn() == null || report.nsid() <= 0) {
                        return; // not made yet: there is no subsystem to connect to
                    }
                    for (Portal portal : ClusterVolumes.portals(joined, desire)) {
                        if (TCP.equals(portal.transport())) {
                            portals.add(new SubsystemPortal(report.nqn(), portal.address(), portal.port()));
                        }
                    }
                }));
        return List.copyOf(portals);
    }
}
