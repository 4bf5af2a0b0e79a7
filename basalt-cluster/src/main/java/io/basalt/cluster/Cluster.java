package io.basalt.cluster;

import io.basalt.cluster.etcd.ClusterKeys;
import io.basalt.cluster.membership.ClusterSecret;
import io.basalt.cluster.membership.Capacity;
import io.basalt.cluster.membership.LeaseFence;
import io.basalt.cluster.membership.Member;
import io.basalt.cluster.membership.MemberList;
import io.basalt.cluster.membership.Membership;
import io.basalt.cluster.membership.NodeDescription;
import io.basalt.cluster.volumes.VolumeRecords;
import io.basalt.cluster.volumes.VolumeTransactions;
import io.etcd.jetcd.Client;

import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * This node in its cluster: the etcd client, the node's registration and the member list. Started only
 * when the node is configured with etcd endpoints; a node without them starts none of this.
 */
public final class Cluster implements AutoCloseable {
    private final NodeDescription self;
    private final Client client;
    private final ScheduledExecutorService executor;
    private final Membership membership;
    private final VolumeTransactions volumeTransactions;
    private volatile ClusterSecret secret;

    private Cluster(NodeDescription self, Client client, ClusterKeys keys, ScheduledExecutorService executor,
                    Membership membership) {
        this.self = self;
        this.client = client;
        this.executor = executor;
        this.membership = membership;
        this.volumeTransactions = new VolumeTransactions(client, keys, Membership.CALL_TIMEOUT);
    }

    /**
     * Joins the cluster: registers this node and reads the members. Fails after one call timeout when etcd
     * does not answer; waits up to the lease TTL plus {@link Membership#JOIN_MARGIN} for a previous lease of
     * this node id to expire (a restart after a crash).
     */
    public static Cluster join(ClusterSettings settings, NodeDescription self, Supplier<Capacity> capacity)
            throws ClusterException {
        Client client = Client.builder().endpoints(settings.etcdEndpoints().toArray(URI[]::new))
                .connectTimeout(Membership.CALL_TIMEOUT).build();
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform()
                .name("basalt-cluster").daemon().factory());
        ClusterKeys keys = new ClusterKeys(settings.name());
        Membership membership = new Membership(client, keys, settings, self, capacity, executor);
        Cluster cluster = new Cluster(self, client, keys, executor, membership);
        try {
            cluster.secret = ClusterSecret.readOrMake(client, keys, new SecureRandom(), Membership.CALL_TIMEOUT);
            membership.start();
        } catch (ClusterException | RuntimeException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    public NodeDescription self() {
        return self;
    }

    /** Every node the cluster knows, live or down, as of the last change etcd reported. Never waits for etcd. */
    public List<Member> members() {
        return membership.members().members();
    }

    public List<Member> liveMembers() {
        return members().stream().filter(Member::live).toList();
    }

    /** The cluster's volume records, watched with the members. Never waits for etcd. */
    public VolumeRecords volumes() {
        return membership.members().volumes();
    }

    /** Changes of volume records, each one etcd transaction. */
    public VolumeTransactions volumeTransactions() {
        return volumeTransactions;
    }

    /** The secret the cluster's nodes share, read (or made, by the first node) when this node joined. */
    public ClusterSecret secret() {
        return secret;
    }

    /** Whether this node may still acknowledge writes as a primary: its lease is known to be alive. */
    public LeaseFence leaseFence() {
        return membership.registration().fence();
    }

    public long leaseLosses() {
        return membership.registration().leaseLosses();
    }

    public long registrations() {
        return membership.registration().registrations();
    }

    /** Leaves the cluster (the node's lease is revoked, so it is no longer live at once) and closes the client. */
    @Override
    public void close() {
        membership.members().close();
        executor.shutdownNow();
        try {
            executor.awaitTermination(Membership.CALL_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        membership.registration().close();
        client.close();
    }
}
