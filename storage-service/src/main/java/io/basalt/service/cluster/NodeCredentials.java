package io.basalt.service.cluster;

import io.basalt.cluster.membership.ClusterSecret;
import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.auth.DhchapKey;

/**
 * The DH-HMAC-CHAP credentials with which the cluster's nodes, as hosts, reach each other's replica
 * subsystems (docs/cluster.md, "Security"): derived from the cluster's secret and the host NQN, so
 * every node can tell any node's and none is stored. A node's host NQN is no secret (it is made of its
 * node id, which the API shows), so the replica subsystems' ACL alone would let any host that presents
 * one write a volume's copy; with these, only a process that read the cluster's secret from etcd can.
 * Bidirectional: the primary checks that the secondary's node holds the secret too.
 */
final class NodeCredentials {
    /** No transformation of the key (DHHC-1:00): both sides derive the same key from the secret. */
    private static final int UNTRANSFORMED = 0;

    private final ClusterSecret secret;

    NodeCredentials(ClusterSecret secret) {
        this.secret = secret;
    }

    /** The credentials of the node whose host NQN is {@code hostNqn}; for any NQN, a node's or not. */
    DhchapCredentials of(String hostNqn) {
        return new DhchapCredentials(DhchapKey.of(UNTRANSFORMED, secret.derive("dhchap host " + hostNqn)),
                DhchapKey.of(UNTRANSFORMED, secret.derive("dhchap controller " + hostNqn)));
    }
}
