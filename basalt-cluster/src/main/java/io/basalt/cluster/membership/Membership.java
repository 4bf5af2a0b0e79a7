package io.basalt.cluster.membership;

import io.basalt.cluster.ClusterException;
import io.basalt.cluster.ClusterSettings;
import io.basalt.cluster.etcd.ClusterKeys;
import io.etcd.jetcd.Client;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;

/** A node's membership of its cluster: its own registration, and the list of every member. */
public final class Membership {
    /** Longest wait for one etcd call; a healthy etcd answers in milliseconds. */
    public static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    /** Joining may wait this long past the lease TTL for a previous lease of the node to expire. */
    public static final Duration JOIN_MARGIN = Duration.ofSeconds(5);

    private final Registration registration;
    private final MemberList members;
    private final Duration joinDeadline;

    public Membership(Client client, ClusterKeys keys, ClusterSettings settings, NodeDescription self,
                      Supplier<Capacity> capacity, ScheduledExecutorService executor) {
        this.registration = new Registration(client, keys, settings, self, capacity, executor, CALL_TIMEOUT);
        this.members = new MemberList(client, keys, executor, CALL_TIMEOUT);
        this.joinDeadline = settings.leaseTtl().plus(JOIN_MARGIN);
    }

    /** Registers the node, then reads the member list (which therefore includes the node). */
    public void start() throws ClusterException {
        registration.start(joinDeadline);
        members.start();
    }

    public Registration registration() {
        return registration;
    }

    public MemberList members() {
        return members;
    }
}
