package io.basalt.service.replication;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.cluster.ClusterException;
import io.basalt.cluster.volumes.VolumeRecords;
import io.basalt.cluster.volumes.VolumeTransactions;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * A volume's in-sync set in its etcd record ({@code volumes/<id>}): the field {@code inSync} lists the
 * nodes whose copies take every write (absent: all of {@code nodeIds}). Each change is one transaction
 * that also bumps {@code generation}, compared against the record's mod revision, read again and
 * retried when another change won (up to {@value #ATTEMPTS} times). Only these two fields are touched:
 * the rest of the record (the API's business) is written back as read.
 *
 * <p>It works for one primary, and changes nothing once the record names another
 * ({@link ReplicaRoles#primary}): a deposed primary whose forwarded writes a secondary refuses (it
 * follows the new generation) must not take that secondary out of the new primary's in-sync set.
 *
 * <p>The calls run on {@code executor} (never an event loop), each etcd call bounded by the
 * transactions' timeout.
 */
public final class EtcdInSyncSet implements InSyncSet {
    static final int ATTEMPTS = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final VolumeTransactions transactions;
    private final String volumeId;
    private final String primary;
    private final Executor executor;

    /** @param primary the node whose replicated store changes the set: changes are refused once it is not primary */
    public EtcdInSyncSet(VolumeTransactions transactions, String volumeId, String primary, Executor executor) {
        this.transactions = transactions;
        this.volumeId = volumeId;
        this.primary = primary;
        this.executor = executor;
    }

    @Override
    public CompletableFuture<Long> remove(String nodeId) {
        return change(nodeId, false);
    }

    @Override
    public CompletableFuture<Long> rejoin(String nodeId) {
        return change(nodeId, true);
    }

    /** The nodes in sync according to a record's JSON. */
    public static List<String> inSync(byte[] record) throws IOException {
        return ReplicaRoles.inSync(JSON.readTree(record));
    }

    private CompletableFuture<Long> change(String nodeId, boolean inSync) {
        return EtcdTask.supply(executor, () -> commit(nodeId, inSync));
    }

    private long commit(String nodeId, boolean inSync) throws ClusterException, IOException {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            VolumeRecords.Stored stored = transactions.read(volumeId).orElseThrow(
                    () -> new ClusterException("volume " + volumeId + " has no record in etcd"));
            ObjectNode record = (ObjectNode) JSON.readTree(stored.json());
            String recordedPrimary = ReplicaRoles.primary(record);
            if (!primary.equals(recordedPrimary)) {
                throw new ClusterException("volume " + volumeId + " has another primary, " + recordedPrimary
                        + ": node " + primary + " no longer changes its in-sync set");
            }
            if (!ReplicaRoles.nodeIds(record).contains(nodeId)) {
                throw new ClusterException("node " + nodeId + " holds no copy of volume " + volumeId);
            }
            Set<String> members = new HashSet<>(ReplicaRoles.inSync(record));
            if (inSync) {
                members.add(nodeId);
            } else {
                members.remove(nodeId);
            }
            ReplicaRoles.putInSync(record, members);
            long generation = ReplicaRoles.generation(record) + 1;
            record.put("generation", generation);
            String project = record.path("project").asText();
            String name = record.path("name").asText();
            if (transactions.update(volumeId, stored.modRevision(), JSON.writeValueAsBytes(record), project, name,
                    name)) {
                return generation;
            }
        }
        throw new ClusterException("volume " + volumeId + " kept changing; " + (inSync ? "adding " : "removing ")
                + nodeId + (inSync ? " to" : " from") + " its in-sync set lost " + ATTEMPTS + " times");
    }
}
