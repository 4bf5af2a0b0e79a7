package io.basalt.cluster.membership;

import java.util.Optional;

/**
 * A node the cluster knows, live or not.
 *
 * @param description what it is and where it is reached
 * @param status      what it last reported while its lease holds; empty when its lease is gone (the node is
 *                    down or cut off from etcd)
 * @param leaseId     the etcd lease its status is bound to, 0 when it is down: the incarnation that fencing will
 *                    check
 */
public record Member(NodeDescription description, Optional<MemberStatus> status, long leaseId) {
    public boolean live() {
        return status.isPresent();
    }

    public String nodeId() {
        return description.nodeId();
    }

    public String failureDomain() {
        return description.failureDomain();
    }

    /** Free bytes as last reported, 0 for a node that is down. */
    public long freeBytes() {
        return status.map(s -> s.capacity().freeBytes()).orElse(0L);
    }
}
