package io.basalt.service.cluster;

import io.basalt.bridge.ClusterService;
import io.basalt.bridge.ClusterUnavailableException;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.ClusterNode;
import io.basalt.bridge.api.ClusterNodeList;
import io.basalt.bridge.api.ClusterOverview;
import io.basalt.bridge.api.NodeStats;
import io.basalt.bridge.api.Portal;
import io.basalt.cluster.Cluster;
import io.basalt.cluster.ClusterException;
import io.basalt.cluster.ClusterSettings;
import io.basalt.cluster.membership.Capacity;
import io.basalt.cluster.membership.Member;
import io.basalt.cluster.membership.MemberStatus;
import io.basalt.cluster.membership.NodeDescription;
import io.basalt.cluster.membership.PortalAddress;
import io.basalt.nvmetcp.nvmet.NvmeTarget;
import io.basalt.nvmetcp.nvmet.SubsystemPortal;
import io.basalt.service.volume.VolumeManager;
import io.micrometer.core.instrument.FunctionCounter;
import io.netty.channel.EventLoopGroup;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * This node's part in its cluster: it joins through basalt-cluster once the node's addresses are known,
 * shows the members to the API in the API's types, exports the membership's metrics, serves the volume
 * API for the whole cluster and carries out the volumes placed on this node. Made only when
 * {@code cluster.etcd-endpoints} is set.
 */
public final class NodeCluster implements ClusterService, AutoCloseable {
    private final ClusterSettings settings;
    private volatile Cluster cluster;
    private AssignedVolumes assigned;
    private volatile VolumeCopies copies;
    private VolumePromotions promotions;

    public NodeCluster(ClusterSettings settings) {
        this.settings = settings;
    }

    /** The volume API of the whole cluster, over this node's {@code local} volumes; it answers 503 until joined. */
    public VolumeService volumes(VolumeManager local) {
        return new ClusterVolumes(local, () -> cluster);
    }

    /**
     * Registers the node with its portals and API address (its capacity is read from {@code local} from
     * now on), then carries out the desired state of the volumes placed on it: their copies are served
     * by {@code target}, and a primary reaches its secondaries' copies on {@code eventLoops}.
     */
    public void join(String nodeId, String apiAddress, List<Portal> portals, VolumeManager local, NvmeTarget target,
                     EventLoopGroup eventLoops) throws ClusterException {
        NodeDescription self = new NodeDescription(nodeId, settings.failureDomain(), apiAddress,
                portals.stream().map(p -> new PortalAddress(p.transport(), p.address(), p.port())).toList());
        Cluster joined = Cluster.join(settings, self, () -> capacity(local.stats()));
        copies = new VolumeCopies(joined, local, target, eventLoops, settings.failback());
        assigned = new AssignedVolumes(joined, local, copies);
        assigned.start();
        promotions = new VolumePromotions(joined, assigned::reapply);
        promotions.start();
        cluster = joined;
    }

    /**
     * For the discovery controller: every portal of the cluster's volumes that {@code hostNqn} may
     * see; none while the node is joining.
     */
    public List<SubsystemPortal> discoveryPortals(String hostNqn) {
        Cluster joined = cluster;
        return joined == null ? List.of() : ClusterDiscovery.portals(joined, hostNqn);
    }

    /** The engine counts reclaimable space as free; a node never reports more free than total. */
    private static Capacity capacity(NodeStats stats) {
        long total = Math.max(0, stats.totalBytes());
        return new Capacity(total, Math.clamp(stats.freeBytes(), 0, total));
    }

    public void registerMetrics(MeterRegistry registry) {
        FunctionCounter.builder("basalt.cluster.registrations", this, c -> c.cluster == null ? 0 : c.cluster.registrations())
                .description("Times this node registered in its cluster (more than 1: it lost its lease and came back)")
                .register(registry);
        FunctionCounter.builder("basalt.cluster.lease.losses", this, c -> c.cluster == null ? 0 : c.cluster.leaseLosses())
                .description("Times this node lost its etcd lease and so was not a live member until it registered again")
                .register(registry);
        FunctionCounter.builder("basalt.replication.rejoin.blocks.copied", this,
                        c -> c.copies == null ? 0 : c.copies.rejoinedBlocks())
                .description("Blocks this node, as a primary, copied to secondaries that came back out of sync")
                .register(registry);
        Gauge.builder("basalt.cluster.members.live", this, c -> c.cluster == null ? 0 : c.cluster.liveMembers().size())
                .description("Live members of the cluster, as this node sees them").register(registry);
        Gauge.builder("basalt.cluster.members", this, c -> c.cluster == null ? 0 : c.cluster.members().size())
                .description("Nodes the cluster knows, live or down").register(registry);
    }

    @Override
    public ClusterOverview overview() {
        Cluster joined = joined();
        List<Member> live = joined.liveMembers();
        List<VolumeDesire> volumes = new ArrayList<>();
        joined.volumes().desired().forEach((id, stored) ->
                ClusterJson.decode(id, stored.json(), VolumeDesire.class).ifPresent(volumes::add));
        return new ClusterOverview(settings.name(), joined.self().nodeId(), settings.failureDomain(),
                joined.members().size(), live.size(), (int) live.stream().map(Member::failureDomain).distinct().count(),
                live.stream().mapToLong(m -> m.status().orElseThrow().capacity().totalBytes()).sum(),
                live.stream().mapToLong(Member::freeBytes).sum(),
                volumes.size(), volumes.stream().mapToLong(v -> v.sizeBytes() * Math.max(1, v.nodeIds().size())).sum());
    }

    @Override
    public ClusterNodeList nodes() {
        Cluster joined = joined();
        String self = joined.self().nodeId();
        return new ClusterNodeList(joined.members().stream().map(m -> node(m, self)).toList());
    }

    private static ClusterNode node(Member member, String self) {
        NodeDescription description = member.description();
        MemberStatus status = member.status().orElse(null);
        return new ClusterNode(description.nodeId(), description.failureDomain(), description.apiAddress(),
                description.portals().stream().map(p -> new Portal(p.transport(), p.address(), p.port())).toList(),
                member.live(), description.nodeId().equals(self),
                status == null ? null : status.capacity().totalBytes(),
                status == null ? null : status.capacity().freeBytes(),
                status == null ? null : Instant.ofEpochMilli(status.reportedAtMillis()).toString());
    }

    private Cluster joined() {
        Cluster joined = cluster;
        if (joined == null) {
            throw new ClusterUnavailableException("this node is joining cluster '" + settings.name() + "'");
        }
        return joined;
    }

    /** Leaves the cluster: the node's lease is revoked, so the others see it down at once. */
    @Override
    public void close() {
        if (promotions != null) {
            promotions.close();
        }
        if (assigned != null) {
            assigned.close();
        }
        if (copies != null) {
            copies.close();
        }
        Cluster joined = cluster;
        if (joined != null) {
            joined.close();
        }
    }
}
