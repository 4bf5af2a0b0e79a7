package io.basalt.cluster.membership;

import io.basalt.cluster.ClusterException;
import io.basalt.cluster.etcd.ClusterKeys;
import io.basalt.cluster.etcd.EtcdCalls;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;

/**
 * The secret the nodes of one cluster share, so that they can prove to each other that they are its
 * nodes (the storage service derives each node's DH-HMAC-CHAP keys from it, for the subsystems through
 * which primaries write their secondaries' copies). The first node to join makes it, {@value #BYTES}
 * random bytes, in a transaction that writes it only if no node did before; every node reads it when
 * it joins and keeps it in memory only. It is as well kept as etcd is: whoever can read etcd's keys
 * can read it, but could as well rewrite any volume's hosts (docs/cluster.md, "Security").
 */
public final class ClusterSecret {
    static final int BYTES = 32;
    private static final String HMAC = "HmacSHA256";

    private final byte[] secret;

    /** @param secret the cluster's {@value #BYTES} bytes, as etcd holds them */
    public ClusterSecret(byte[] secret) {
        if (secret.length != BYTES) {
            throw new IllegalArgumentException("a cluster secret has " + BYTES + " bytes, not " + secret.length);
        }
        this.secret = secret.clone();
    }

    /** Reads the cluster's secret, making it first if the cluster has none. */
    public static ClusterSecret readOrMake(Client client, ClusterKeys keys, SecureRandom random, Duration timeout)
            throws ClusterException {
        byte[] made = new byte[BYTES];
        random.nextBytes(made);
        ByteSequence key = keys.secret();
        TxnResponse answer = EtcdCalls.await(client.getKVClient().txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(key, ByteSequence.from(made), PutOption.DEFAULT))
                .Else(Op.get(key, GetOption.DEFAULT))
                .commit(), timeout, "read or make the cluster's secret");
        if (answer.isSucceeded()) {
            return new ClusterSecret(made);
        }
        List<KeyValue> kvs = answer.getGetResponses().getFirst().getKvs();
        byte[] stored = kvs.isEmpty() ? new byte[0] : kvs.getFirst().getValue().getBytes();
        if (stored.length != BYTES) {
            throw new ClusterException("the cluster's secret in etcd (" + key.toString(StandardCharsets.UTF_8)
                    + ") has " + stored.length + " bytes, not " + BYTES + ": it was changed by something else");
        }
        return new ClusterSecret(stored);
    }

    /** A key of 32 bytes for {@code purpose}, the same on every node of the cluster and only there (HMAC-SHA-256). */
    public byte[] derive(String purpose) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(secret, HMAC));
            return mac.doFinal(purpose.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA-256 is part of every JDK", e);
        }
    }
}
