package io.basalt.cluster.etcd;

import io.etcd.jetcd.ByteSequence;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The layout of one cluster's keys in etcd (docs/cluster.md shows it): everything under
 * {@code /basalt/<cluster>/}, so several clusters can share one etcd.
 * <ul>
 * <li>{@code nodes/<node id>}: the node's {@code NodeDescription}, without lease: the cluster remembers
 * nodes that are down;</li>
 * <li>{@code members/<node id>}: the node's {@code MemberStatus}, bound to its lease: present while the
 * node is live.</li>
 * </ul>
 */
public final class ClusterKeys {
    static final String ROOT = "/basalt/";
    public static final String NODES = "nodes/";
    public static final String MEMBERS = "members/";

    private final String prefix;

    public ClusterKeys(String clusterName) {
        this.prefix = ROOT + clusterName + "/";
    }

    /** Every key of the cluster starts with this. */
    public ByteSequence prefix() {
        return bytes(prefix);
    }

    public ByteSequence node(String nodeId) {
        return bytes(prefix + NODES + nodeId);
    }

    public ByteSequence member(String nodeId) {
        return bytes(prefix + MEMBERS + nodeId);
    }

    /** A key of the cluster cut into its kind ({@link #NODES}, {@link #MEMBERS}) and node id; empty for other keys. */
    public Optional<KeyName> parse(ByteSequence key) {
        String text = key.toString(StandardCharsets.UTF_8);
        if (!text.startsWith(prefix)) {
            return Optional.empty();
        }
        String rest = text.substring(prefix.length());
        for (String kind : new String[] {NODES, MEMBERS}) {
            if (rest.startsWith(kind) && rest.length() > kind.length() && rest.indexOf('/', kind.length()) < 0) {
                return Optional.of(new KeyName(kind, rest.substring(kind.length())));
            }
        }
        return Optional.empty();
    }

    /** A parsed key: its kind and the node it is about. */
    public record KeyName(String kind, String nodeId) {
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }
}
