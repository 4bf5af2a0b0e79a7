package io.basalt.cluster.membership;

/**
 * What a live node reports: the value of its {@code members/<id>} key, which is bound to the node's
 * lease and so disappears when the node stops keeping the lease alive.
 *
 * @param capacity         its space when it last reported
 * @param reportedAtMillis when that was, by the node's clock (for people; nothing orders by it)
 */
public record MemberStatus(Capacity capacity, long reportedAtMillis) {
    public MemberStatus {
        if (capacity == null) {
            throw new IllegalArgumentException("a member status needs its capacity");
        }
    }
}
