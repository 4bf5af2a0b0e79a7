package io.basalt.cluster.membership;

import io.basalt.cluster.ClusterException;
import io.basalt.cluster.ClusterSettings;
import io.basalt.cluster.etcd.ClusterKeys;
import io.basalt.cluster.etcd.EtcdCalls;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * This node's membership: its description and its leased status in etcd, the lease kept alive, the
 * capacity republished. When the lease is lost (etcd says it expired, or no keep-alive got through for
 * a whole TTL) the node registers again under a new lease; each loss is logged and counted.
 *
 * <p>Registering is one etcd transaction: the node's status key is created only if no other lease holds
 * it, so two processes with one node id (a copied data directory, a restart within the old lease's TTL)
 * never both count as live. A restart waits for the old lease to expire, as fencing will require.
 */
public final class Registration implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Registration.class);
    /** How often a registration that lost to another lease of the same node id tries again. */
    private static final Duration RETRY_DELAY = Duration.ofMillis(500);

    private final Client client;
    private final ClusterKeys keys;
    private final ClusterSettings settings;
    private final NodeDescription description;
    private final Supplier<Capacity> capacity;
    private final ScheduledExecutorService executor;
    private final Duration callTimeout;
    private final AtomicLong registrations = new AtomicLong();
    private final AtomicLong leaseLosses = new AtomicLong();
    /** The lease the node's status is bound to; 0 while it is not registered. Changed on the executor's thread. */
    private volatile long leaseId;
    /** A lease given up on, which may linger in etcd until its TTL; revoked if it stands in the way. */
    private long lostLeaseId;
    private long lastKeepAliveNanos;
    private final LeaseFence fence;
    private List<ScheduledFuture<?>> tasks = List.of();

    Registration(Client client, ClusterKeys keys, ClusterSettings settings, NodeDescription description,
                 Supplier<Capacity> capacity, ScheduledExecutorService executor, Duration callTimeout) {
        this.client = client;
        this.keys = keys;
        this.settings = settings;
        this.description = description;
        this.capacity = capacity;
        this.executor = executor;
        this.callTimeout = callTimeout;
        this.fence = new LeaseFence(settings.leaseTtl(), tick());
    }

    /** Registers (waiting up to {@code deadline} for an old lease of this node id to expire), then keeps it up. */
    void start(Duration deadline) throws ClusterException {
        long giveUpAt = System.nanoTime() + deadline.toNanos();
        boolean waiting = false;
        while (true) {
            try {
                register();
                break;
            } catch (NodeIdHeldException e) {
                if (System.nanoTime() - giveUpAt > 0) {
                    throw new ClusterException(e.getMessage() + "; still so after " + deadline.toSeconds() + " s");
                }
                if (!waiting) {
                    LOG.info("{}; waiting up to {} s for it to expire", e.getMessage(), deadline.toSeconds());
                    waiting = true;
                }
                sleep(RETRY_DELAY);
            }
        }
        long keepAliveMillis = tick().toMillis();
        tasks = List.of(
                executor.scheduleWithFixedDelay(() -> survive(this::keepAlive), keepAliveMillis, keepAliveMillis,
                        TimeUnit.MILLISECONDS),
                executor.scheduleWithFixedDelay(() -> survive(this::publishCapacity), settings.capacityRefresh().toMillis(),
                        settings.capacityRefresh().toMillis(), TimeUnit.MILLISECONDS));
    }

    /** A periodic task that threw would never run again: a surprise (the capacity unreadable) is logged instead. */
    private static void survive(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.error("the cluster membership's periodic task failed; it runs again at its next tick", e);
        }
    }

    /** The keep-alive interval, a third of the TTL: three keep-alives may fail before the lease is at risk. */
    private Duration tick() {
        return Duration.ofMillis(Math.max(500, settings.leaseTtl().toMillis() / 3));
    }

    /** Whether this node's lease is known to be alive, for a primary's writes: see {@link LeaseFence}. */
    public LeaseFence fence() {
        return fence;
    }

    /** Times this node registered (1 after a start without trouble). */
    public long registrations() {
        return registrations.get();
    }

    /** Times this node lost its lease and so dropped out of the cluster's live members. */
    public long leaseLosses() {
        return leaseLosses.get();
    }

    private void register() throws ClusterException, NodeIdHeldException {
        MemberStatus status = status(); // first: if the capacity cannot be read, no lease is left behind
        long sent = System.nanoTime(); // etcd starts the lease's TTL after this
        long lease = EtcdCalls.await(client.getLeaseClient().grant(settings.leaseTtl().toSeconds()), callTimeout,
                "grant a lease").getID();
        TxnResponse answer;
        try {
            answer = EtcdCalls.await(client.getKVClient().txn()
                    .If(new Cmp(keys.member(description.nodeId()), Cmp.Op.EQUAL, CmpTarget.version(0)))
                    .Then(Op.put(keys.node(description.nodeId()), MemberRecords.encode(description), PutOption.DEFAULT),
                            Op.put(keys.member(description.nodeId()), MemberRecords.encode(status),
                                    PutOption.builder().withLeaseId(lease).build()))
                    .Else(Op.get(keys.member(description.nodeId()), GetOption.DEFAULT))
                    .commit(), callTimeout, "register node " + description.nodeId());
        } catch (ClusterException e) {
            revokeQuietly(lease);
            throw e;
        }
        if (!answer.isSucceeded()) {
            revokeQuietly(lease);
            List<KeyValue> holders = answer.getGetResponses().isEmpty() ? List.of() : answer.getGetResponses().getFirst().getKvs();
            long holder = holders.isEmpty() ? 0 : holders.getFirst().getLease();
            if (holder != 0 && holder == lostLeaseId) {
                // Our own earlier lease, which we gave up on: end it now rather than wait for its TTL.
                revokeQuietly(holder);
            }
            throw new NodeIdHeldException("node id " + description.nodeId() + " is live in cluster '" + settings.name()
                    + "' under another lease (" + Long.toHexString(holder) + "): another process with this node's"
                    + " data directory, or this node before a restart, whose lease has not expired yet");
        }
        leaseId = lease;
        lastKeepAliveNanos = System.nanoTime();
        fence.renewed(sent);
        long count = registrations.incrementAndGet();
        LOG.info("node {} is a member of cluster '{}' (failure domain {}, lease {}, TTL {} s){}", description.nodeId(),
                settings.name(), description.failureDomain(), Long.toHexString(lease), settings.leaseTtl().toSeconds(),
                count > 1 ? " again, registration " + count : "");
    }

    private MemberStatus status() {
        return new MemberStatus(capacity.get(), System.currentTimeMillis());
    }

    private void keepAlive() {
        if (leaseId == 0) {
            registerAgain();
            return;
        }
        long sent = System.nanoTime(); // etcd restarts the lease's TTL after this, not when its answer arrives
        try {
            LeaseKeepAliveResponse answer = EtcdCalls.await(client.getLeaseClient().keepAliveOnce(leaseId), tick(),
                    "keep the lease alive");
            if (answer.getTTL() <= 0) {
                leaseLost("etcd says the lease expired");
                return;
            }
            lastKeepAliveNanos = System.nanoTime();
            fence.renewed(sent);
        } catch (ClusterException e) {
            if (isLeaseGone(e)) {
                leaseLost("etcd no longer knows the lease");
            } else if (System.nanoTime() - lastKeepAliveNanos > settings.leaseTtl().toNanos()) {
                leaseLost("no keep-alive reached etcd for " + settings.leaseTtl().toSeconds() + " s (" + e.getMessage() + ")");
            } else {
                LOG.debug("a keep-alive failed, the lease may still hold: {}", e.getMessage());
            }
        }
    }

    private void publishCapacity() {
        if (leaseId == 0) {
            return;
        }
        try {
            // Bounded by a tick, not the call timeout: the next keep-alive must not wait behind it.
            EtcdCalls.await(client.getKVClient().put(keys.member(description.nodeId()), MemberRecords.encode(status()),
                    PutOption.builder().withLeaseId(leaseId).build()), tick(), "publish the node's capacity");
        } catch (ClusterException e) {
            if (isLeaseGone(e)) {
                leaseLost("etcd no longer knows the lease");
            } else {
                LOG.warn("cannot publish the node's capacity: {}", e.getMessage());
            }
        }
    }

    private void leaseLost(String why) {
        fence.dropped();
        leaseLosses.incrementAndGet();
        LOG.warn("node {} lost its membership of cluster '{}' (lease {}): {}; registering again", description.nodeId(),
                settings.name(), Long.toHexString(leaseId), why);
        lostLeaseId = leaseId;
        leaseId = 0;
        registerAgain();
    }

    /** Tried at every keep-alive tick until it works. */
    private void registerAgain() {
        try {
            register();
        } catch (ClusterException | NodeIdHeldException e) {
            LOG.warn("cannot register again yet: {}", e.getMessage());
        }
    }

    private static boolean isLeaseGone(ClusterException e) {
        String message = String.valueOf(e.getMessage());
        return message.contains("lease not found");
    }

    /** Bounded by a tick: a lease nobody keeps alive ends by itself within its TTL anyway. */
    private void revokeQuietly(long lease) {
        try {
            EtcdCalls.await(client.getLeaseClient().revoke(lease), tick(), "revoke a lease");
        } catch (ClusterException e) {
            LOG.debug("lease {} stays until its TTL: {}", Long.toHexString(lease), e.getMessage());
        }
    }

    private static void sleep(Duration delay) throws ClusterException {
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterException("interrupted while waiting to register", e);
        }
    }

    /**
     * Leaves the cluster at once: the lease is revoked, so the node's status key goes with it. Called once
     * the executor has stopped, so no keep-alive races with it.
     */
    @Override
    public void close() {
        tasks.forEach(task -> task.cancel(false));
        long lease = leaseId;
        if (lease != 0) {
            fence.dropped(); // before the revocation lets another node be promoted
            leaseId = 0;
            revokeQuietly(lease);
        }
    }

    /** Another lease holds this node id's status key. */
    private static final class NodeIdHeldException extends Exception {
        NodeIdHeldException(String message) {
            super(message);
        }
    }
}
