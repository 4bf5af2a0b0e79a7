package io.basalt.service.replication;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.cluster.ClusterException;
import io.basalt.cluster.volumes.VolumeRecords;
import io.basalt.cluster.volumes.VolumeTransactions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * An in-sync secondary making itself a volume's primary once the primary's lease has expired, with one
 * etcd transaction: <em>if</em> the volume's record is still at the mod revision the secondary read,
 * the old primary's {@code members/} key is absent (its lease is gone) and the secondary's own is
 * present, <em>then</em> the record names the secondary {@code primary}, drops the old primary from
 * {@code inSync} and bumps {@code generation} by one. Two secondaries that try at once cannot both win
 * (the first commit changes the mod revision the other compares), and no secondary wins while the old
 * primary is live. The old primary stopped acknowledging writes before its lease could expire (its
 * {@link io.basalt.cluster.membership.LeaseFence}), so no write it acknowledged is missing from the new
 * primary's copy (it was in sync: every acknowledged write reached it).
 *
 * <p>What the new primary does next (raise its {@link GenerationFence} to the new generation, serve the
 * volume through a {@link ReplicatedStore}, set its ANA state optimized) is the node's part.
 *
 * <p>One etcd call per attempt, bounded by the transactions' timeout, on {@code executor} (never an
 * event loop). Nothing is retried: a caller that lost reads the record again (its watched copy) and
 * decides anew.
 */
public final class Promotion {
    private static final Logger LOG = LoggerFactory.getLogger(Promotion.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * How far apart the in-sync secondaries' turns to try are: far more than one transaction and one
     * watch event take, so the first candidate has normally won (and the others see a live primary)
     * before the next one's turn comes; small next to the lease TTL the failover waits for anyway.
     */
    public static final Duration TURN_SPACING = Duration.ofSeconds(1);

    /** What became of an attempt. */
    public enum Outcome {
        /** This node is the primary now, at the result's generation. */
        PROMOTED,
        /** The old primary is live (its lease holds): nothing changed. */
        PRIMARY_LIVE,
        /** The record changed since it was read (another node was promoted first, or the in-sync set changed). */
        RECORD_CHANGED,
        /** This node's own lease is gone: a node that is not live does not take a volume over. */
        NOT_LIVE,
        /** This node's copy is not in sync (or it holds none): it must not become primary. */
        NOT_IN_SYNC,
        /** The record already names this node primary. */
        ALREADY_PRIMARY
    }

    /**
     * @param generation the new generation when promoted, else the generation of the record as read
     * @param oldPrimary the primary the record named as read
     */
    public record Result(Outcome outcome, long generation, String oldPrimary) {
    }

    private final VolumeTransactions transactions;
    private final String self;
    private final Executor executor;

    /** @param self this node's id */
    public Promotion(VolumeTransactions transactions, String self, Executor executor) {
        this.transactions = transactions;
        this.self = self;
        this.executor = executor;
    }

    /**
     * When node {@code self} should try to promote itself, as its copy of etcd shows the volume
     * ({@code record}) and the live members ({@code live}, those whose {@code members/} key exists): empty
     * while the primary is live or when {@code self} must not be primary (not live, not in sync, already
     * primary); else after a wait of {@link #TURN_SPACING} times its rank among the live in-sync
     * secondaries, in the order of {@code nodeIds}. Only the first tries at once; a later one tries only
     * if, at its turn (the caller asks again with the record as it is then), the primary is still down.
     * Taking turns only spares etcd transactions that would lose: two that try at once cannot both win.
     */
    public static Optional<Duration> turn(JsonNode record, Set<String> live, String self) {
        String primary = ReplicaRoles.primary(record);
        List<String> inSync = ReplicaRoles.inSync(record);
        if (primary == null || live.contains(primary) || primary.equals(self) || !live.contains(self)
                || !inSync.contains(self) || !ReplicaRoles.nodeIds(record).contains(self)) {
            return Optional.empty();
        }
        int rank = 0;
        for (String candidate : ReplicaRoles.nodeIds(record)) {
            if (candidate.equals(self)) {
                break;
            }
            if (!candidate.equals(primary) && inSync.contains(candidate) && live.contains(candidate)) {
                rank++;
            }
        }
        return Optional.of(TURN_SPACING.multipliedBy(rank));
    }

    /**
     * Makes this node the primary of {@code volumeId} if {@code record} (as this node read it, with its
     * mod revision) is still current, names this node in sync, and its primary is down. Fails with a
     * {@link ClusterException} when etcd does not answer in time or the record is not one of ours.
     */
    public CompletableFuture<Result> promote(String volumeId, VolumeRecords.Stored record) {
        return EtcdTask.supply(executor, () -> attempt(volumeId, record));
    }

    private Result attempt(String volumeId, VolumeRecords.Stored stored) throws ClusterException, IOException {
        if (!(JSON.readTree(stored.json()) instanceof ObjectNode record)) {
            throw new ClusterException("the record of volume " + volumeId + " is not a JSON object");
        }
        String oldPrimary = ReplicaRoles.primary(record);
        if (oldPrimary == null) {
            throw new ClusterException("the record of volume " + volumeId + " names no node");
        }
        long generation = ReplicaRoles.generation(record);
        if (oldPrimary.equals(self)) {
            return new Result(Outcome.ALREADY_PRIMARY, generation, oldPrimary);
        }
        List<String> inSync = ReplicaRoles.inSync(record);
        if (!ReplicaRoles.nodeIds(record).contains(self) || !inSync.contains(self)) {
            return new Result(Outcome.NOT_IN_SYNC, generation, oldPrimary);
        }
        Set<String> members = new HashSet<>(inSync);
        members.remove(oldPrimary);
        ReplicaRoles.putInSync(record, members);
        record.put("primary", self);
        record.put("generation", generation + 1);
        Outcome outcome = switch (transactions.takeOver(volumeId, stored.modRevision(), JSON.writeValueAsBytes(record),
                oldPrimary, self)) {
            case DONE -> Outcome.PROMOTED;
            case HOLDER_LIVE -> Outcome.PRIMARY_LIVE;
            case TAKER_DOWN -> Outcome.NOT_LIVE;
            case RECORD_CHANGED -> Outcome.RECORD_CHANGED;
        };
        if (outcome != Outcome.PROMOTED) {
            return new Result(outcome, generation, oldPrimary);
        }
        LOG.warn("Volume {}: node {} is its primary now, at generation {}, in place of {} whose lease expired",
                volumeId, self, generation + 1, oldPrimary);
        return new Result(Outcome.PROMOTED, generation + 1, oldPrimary);
    }
}
