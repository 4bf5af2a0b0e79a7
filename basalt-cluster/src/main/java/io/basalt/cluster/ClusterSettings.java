package io.basalt.cluster;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * How a node joins its cluster.
 *
 * @param etcdEndpoints   etcd's client URLs ({@code http://host:port}); any one of them is enough to join
 * @param name            the cluster's name: the etcd prefix its keys live under, so clusters may share an etcd
 * @param failureDomain   the label of what fails together with this node (a rack, a host): replicas of one
 *                        volume go to distinct failure domains
 * @param leaseTtl        how long the node stays listed after its last keep-alive reached etcd
 * @param capacityRefresh how often the node publishes its capacity
 * @param failback        whether a volume's primary gives it back to the preferred copy (the first of the
 *                        record's {@code nodeIds}) once that copy is in sync again after a failover
 */
public record ClusterSettings(List<URI> etcdEndpoints, String name, String failureDomain, Duration leaseTtl,
                              Duration capacityRefresh, boolean failback) {
    /** Names and labels become parts of etcd keys: no slash, nothing to escape, bounded. */
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,62}");
    /** etcd raises shorter TTLs to its own minimum (about 1.5 s with default timing) anyway. */
    public static final Duration MIN_LEASE_TTL = Duration.ofSeconds(2);
    public static final Duration MAX_LEASE_TTL = Duration.ofHours(1);

    public ClusterSettings {
        etcdEndpoints = List.copyOf(etcdEndpoints);
        if (etcdEndpoints.isEmpty()) {
            throw new IllegalArgumentException("at least one etcd endpoint is needed");
        }
        for (URI endpoint : etcdEndpoints) {
            if (!"http".equals(endpoint.getScheme()) || endpoint.getHost() == null || endpoint.getPort() < 0) {
                throw new IllegalArgumentException("an etcd endpoint looks like http://host:port, not " + endpoint);
            }
        }
        requireLabel("cluster name", name);
        requireLabel("failure domain", failureDomain);
        if (leaseTtl.compareTo(MIN_LEASE_TTL) < 0 || leaseTtl.compareTo(MAX_LEASE_TTL) > 0) {
            throw new IllegalArgumentException("the lease TTL must be from " + MIN_LEASE_TTL.toSeconds() + " to "
                    + MAX_LEASE_TTL.toSeconds() + " seconds, not " + leaseTtl.toSeconds());
        }
        if (capacityRefresh.toMillis() < 1000) {
            throw new IllegalArgumentException("the capacity refresh interval must be at least one second");
        }
    }

    /** Settings with failback on, the default. */
    public ClusterSettings(List<URI> etcdEndpoints, String name, String failureDomain, Duration leaseTtl,
                           Duration capacityRefresh) {
        this(etcdEndpoints, name, failureDomain, leaseTtl, capacityRefresh, true);
    }

    private static void requireLabel(String what, String value) {
        if (value == null || !LABEL.matcher(value).matches()) {
            throw new IllegalArgumentException("the " + what + " must be 1 to 63 letters, digits, '.', '_', ':' or '-',"
                    + " starting with a letter or digit, not " + (value == null ? "nothing" : "'" + value + "'"));
        }
    }
}
