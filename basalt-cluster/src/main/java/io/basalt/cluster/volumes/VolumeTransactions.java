package io.basalt.cluster.volumes;

import io.basalt.cluster.ClusterException;
import io.basalt.cluster.etcd.ClusterKeys;
import io.basalt.cluster.etcd.EtcdCalls;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The changes of volume records, each one etcd transaction: a create only if the name and id are free,
 * a change or delete only if the record's mod revision is still the one the caller read, so two API
 * calls on two nodes cannot both win. Every call is bounded by the call timeout.
 */
public final class VolumeTransactions {
    private static final GetOption COUNT_ONLY = GetOption.builder().withCountOnly(true).build();

    private final Client client;
    private final ClusterKeys keys;
    private final Duration timeout;

    public VolumeTransactions(Client client, ClusterKeys keys, Duration timeout) {
        this.client = client;
        this.keys = keys;
        this.timeout = timeout;
    }

    /**
     * A record larger than {@link VolumeRecords#MAX_VALUE_BYTES} would be skipped by every node's reader
     * (and, read afresh, taken for a volume without a record): it is refused before it is written.
     */
    private static ByteSequence recordBytes(String volumeId, byte[] record) throws ClusterException {
        if (record.length > VolumeRecords.MAX_VALUE_BYTES) {
            throw new ClusterException("the record of volume " + volumeId + " would be " + record.length
                    + " bytes, more than the " + VolumeRecords.MAX_VALUE_BYTES + " a node reads (too many snapshots"
                    + " or hosts?); the change is not made");
        }
        return ByteSequence.from(record);
    }

    /** The volume's record as etcd has it now (not the watched copy), or empty. */
    public Optional<VolumeRecords.Stored> read(String volumeId) throws ClusterException {
        GetResponse answer = EtcdCalls.await(client.getKVClient().get(keys.volume(volumeId), GetOption.DEFAULT), timeout,
                "read volume " + volumeId);
        if (answer.getKvs().isEmpty()) {
            return Optional.empty();
        }
        KeyValue kv = answer.getKvs().getFirst();
        return Optional.of(new VolumeRecords.Stored(kv.getValue().getBytes(), kv.getModRevision()));
    }

    /** Writes a new volume's record and claims its name; false if the name (or the id) is taken. */
    public boolean create(String volumeId, String project, String name, byte[] record) throws ClusterException {
        ByteSequence nameKey = keys.volumeName(project, name);
        return EtcdCalls.await(client.getKVClient().txn()
                .If(new Cmp(nameKey, Cmp.Op.EQUAL, CmpTarget.version(0)),
                        new Cmp(keys.volume(volumeId), Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(keys.volume(volumeId), recordBytes(volumeId, record), PutOption.DEFAULT),
                        Op.put(nameKey, text(volumeId), PutOption.DEFAULT))
                .commit(), timeout, "create volume " + volumeId).isSucceeded();
    }

    /**
     * Replaces the record if it was last changed at {@code modRevision}; a rename moves the name's claim,
     * only if the new name is free. False if either condition fails.
     */
    public boolean update(String volumeId, long modRevision, byte[] record, String project, String oldName,
                          String newName) throws ClusterException {
        List<Cmp> conditions = new ArrayList<>(List.of(new Cmp(keys.volume(volumeId), Cmp.Op.EQUAL,
                CmpTarget.modRevision(modRevision))));
        List<Op> changes = new ArrayList<>(List.of(Op.put(keys.volume(volumeId), recordBytes(volumeId, record),
                PutOption.DEFAULT)));
        if (!oldName.equals(newName)) {
            conditions.add(new Cmp(keys.volumeName(project, newName), Cmp.Op.EQUAL, CmpTarget.version(0)));
            changes.add(Op.delete(keys.volumeName(project, oldName), DeleteOption.DEFAULT));
            changes.add(Op.put(keys.volumeName(project, newName), text(volumeId), PutOption.DEFAULT));
        }
        return EtcdCalls.await(client.getKVClient().txn().If(conditions.toArray(Cmp[]::new))
                .Then(changes.toArray(Op[]::new)).commit(), timeout, "change volume " + volumeId).isSucceeded();
    }

    /** Why {@link #takeOver} changed the record or not. */
    public enum TakeOver {
        /** The record is replaced. */
        DONE,
        /** The node named to give the volume up is live: its {@code members/} key exists. */
        HOLDER_LIVE,
        /** The node named to take the volume over is not live (its lease is gone). */
        TAKER_DOWN,
        /** The record changed (or went) since {@code modRevision}: someone else acted first. */
        RECORD_CHANGED
    }

    /**
     * Replaces the record, in one transaction, only if it was last changed at {@code modRevision}, node
     * {@code holder} is down (its {@code members/} key, bound to its lease, is absent) and node
     * {@code taker} is live: how a secondary takes a volume over from a primary whose lease expired.
     */
    public TakeOver takeOver(String volumeId, long modRevision, byte[] record, String holder, String taker)
            throws ClusterException {
        TxnResponse answer = EtcdCalls.await(client.getKVClient().txn()
                .If(new Cmp(keys.volume(volumeId), Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision)),
                        new Cmp(keys.member(holder), Cmp.Op.EQUAL, CmpTarget.version(0)),
                        new Cmp(keys.member(taker), Cmp.Op.GREATER, CmpTarget.version(0)))
                .Then(Op.put(keys.volume(volumeId), recordBytes(volumeId, record), PutOption.DEFAULT))
                .Else(Op.get(keys.member(holder), COUNT_ONLY), Op.get(keys.member(taker), COUNT_ONLY))
                .commit(), timeout, "give volume " + volumeId + " to node " + taker);
        if (answer.isSucceeded()) {
            return TakeOver.DONE;
        }
        if (answer.getGetResponses().get(0).getCount() > 0) {
            return TakeOver.HOLDER_LIVE;
        }
        if (answer.getGetResponses().get(1).getCount() == 0) {
            return TakeOver.TAKER_DOWN;
        }
        return TakeOver.RECORD_CHANGED;
    }

    /**
     * Replaces the record, in one transaction, only if it was last changed at {@code modRevision} and node
     * {@code taker} is live: how a primary that stopped serving a volume gives it back to its preferred
     * copy (failback). False when either changed.
     */
    public boolean handOver(String volumeId, long modRevision, byte[] record, String taker) throws ClusterException {
        return EtcdCalls.await(client.getKVClient().txn()
                .If(new Cmp(keys.volume(volumeId), Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision)),
                        new Cmp(keys.member(taker), Cmp.Op.GREATER, CmpTarget.version(0)))
                .Then(Op.put(keys.volume(volumeId), recordBytes(volumeId, record), PutOption.DEFAULT))
                .commit(), timeout, "give volume " + volumeId + " back to node " + taker).isSucceeded();
    }

    /** Deletes the record and frees its name if it was last changed at {@code modRevision}. */
    public boolean delete(String volumeId, long modRevision, String project, String name) throws ClusterException {
        return EtcdCalls.await(client.getKVClient().txn()
                .If(new Cmp(keys.volume(volumeId), Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision)))
                .Then(Op.delete(keys.volume(volumeId), DeleteOption.DEFAULT),
                        Op.delete(keys.volumeName(project, name), DeleteOption.DEFAULT))
                .commit(), timeout, "delete volume " + volumeId).isSucceeded();
    }

    /** The holding node's report on the volume; only that node writes it. */
    public void putState(String volumeId, byte[] state) throws ClusterException {
        EtcdCalls.await(client.getKVClient().put(keys.volumeState(volumeId), ByteSequence.from(state)), timeout,
                "report the state of volume " + volumeId);
    }

    public void deleteState(String volumeId) throws ClusterException {
        EtcdCalls.await(client.getKVClient().delete(keys.volumeState(volumeId)), timeout,
                "remove the state of volume " + volumeId);
    }

    private static ByteSequence text(String value) {
        return ByteSequence.from(value, StandardCharsets.UTF_8);
    }
}
