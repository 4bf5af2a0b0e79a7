package io.basalt.service.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.cluster.Cluster;
import io.basalt.cluster.membership.Member;
import io.basalt.cluster.volumes.VolumeRecords;
import io.basalt.service.replication.Promotion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Makes this node the primary of the volumes whose primary is down, when it is its turn
 * ({@link Promotion#turn}; see docs/cluster.md, "Failover and fencing"). Every {@link #CHECK_EVERY} it
 * looks at its watched copy of etcd: the member list, and when a member is down the volume records
 * (a primary whose node was removed from the cluster altogether is not looked for); a volume for which
 * {@code turn} says to wait is remembered from that moment, and once the wait is over, if {@code turn}
 * still says so for the record as it is then, {@link Promotion#promote} is called with that record (its
 * mod revision). The record it commits reaches every node's {@link AssignedVolumes} through the watch,
 * which serves the volume as the record's roles say: this node as the primary, over the other in-sync
 * copies. It also tells when a member is live again, since the volume records' watch does not.
 *
 * <p>Runs on a thread of its own, never the watch thread or an event loop; each attempt is one etcd
 * transaction on that thread, bounded by the cluster's call timeout.
 */
final class VolumePromotions implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VolumePromotions.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * How often the member list is looked at: a tenth of the turn spacing, so a turn starts at most that
     * late (the member list has no listener of its own; a volume record's change is not what says a
     * primary is down).
     */
    static final Duration CHECK_EVERY = Promotion.TURN_SPACING.dividedBy(10);
    /** How long closing waits for an attempt under way: more than the cluster's call timeout, which bounds it. */
    private static final long CLOSE_WAIT_SECONDS = 10;

    private final Cluster cluster;
    private final String self;
    private final Promotion promotion;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("basalt-promotion").daemon().factory());
    private final Runnable membersReturned;
    /** The live members at the last check (this class's thread only). */
    private Set<String> lastLive = Set.of();
    /** Volumes whose turn this node waits for: since when ({@link System#nanoTime}). */
    private final Map<String, Long> waitingSince = new ConcurrentHashMap<>();

    /**
     * @param membersReturned run (on this class's thread) when a member is live again, or for the first
     *                        time: a primary brings a returning secondary back in sync only once it can
     *                        reach it, which its report of the current generation may have come before
     */
    VolumePromotions(Cluster cluster, Runnable membersReturned) {
        this.cluster = cluster;
        this.membersReturned = membersReturned;
        this.self = cluster.self().nodeId();
        this.promotion = new Promotion(cluster.volumeTransactions(), self, Runnable::run);
    }

    void start() {
        thread.scheduleWithFixedDelay(this::check, 0, CHECK_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void check() {
        try {
            List<Member> members = cluster.members();
            Set<String> live = members.stream().filter(Member::live).map(Member::nodeId).collect(Collectors.toSet());
            boolean returned = !lastLive.containsAll(live);
            lastLive = live;
            if (returned) {
                membersReturned.run();
            }
            if (live.size() == members.size()) {
                waitingSince.clear(); // no primary is down: the records need not be read
                return;
            }
            Map<String, VolumeRecords.Stored> records = cluster.volumes().desired();
            waitingSince.keySet().retainAll(records.keySet());
            records.forEach((id, stored) -> consider(id, stored, live));
        } catch (RuntimeException e) {
            LOG.error("looking for volumes to take over failed", e);
        }
    }

    private void consider(String id, VolumeRecords.Stored stored, Set<String> live) {
        Optional<Duration> turn;
        try {
            JsonNode record = JSON.readTree(stored.json());
            turn = Promotion.turn(record, live, self);
        } catch (IOException e) {
            return; // the member list's reader warned of a record it cannot read
        }
        if (turn.isEmpty()) {
            waitingSince.remove(id);
            return;
        }
        long now = System.nanoTime();
        long since = waitingSince.computeIfAbsent(id, v -> now);
        if (now - since < turn.get().toNanos()) {
            return;
        }
        waitingSince.remove(id);
        try {
            Promotion.Result result = promotion.promote(id, stored).join(); // run here, on this thread
            if (result.outcome() != Promotion.Outcome.PROMOTED) {
                LOG.info("volume {}: not taken over from {}: {}", id, result.oldPrimary(), result.outcome());
            }
        } catch (CompletionException e) {
            // The next check, with the record as the watch then shows it, decides anew.
            LOG.warn("volume {}: taking it over failed: {}", id, e.getCause().toString());
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
