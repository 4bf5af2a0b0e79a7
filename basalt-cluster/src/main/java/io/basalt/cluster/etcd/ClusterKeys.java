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
 * node is live;</li>
 * <li>{@code volumes/<volume id>}: a volume's desired state, written by the API of any node through
 * transactions that compare its mod revision;</li>
 * <li>{@code volume-states/<volume id>}: what the node holding the volume has made of it;</li>
 * <li>{@code volume-names/<project>/<name>}: the volume id a name belongs to, so that two nodes cannot
 * give one name to two volumes;</li>
 * <li>{@code node-secret}: the secret the cluster's nodes prove themselves to each other with
 * ({@code ClusterSecret}).</li>
 * </ul>
 */
public final class ClusterKeys {
    static final String ROOT = "/basalt/";
    public static final String NODES = "nodes/";
    public static final String MEMBERS = "members/";
    public static final String VOLUMES = "volumes/";
    public static final String VOLUME_STATES = "volume-states/";
    static final String VOLUME_NAMES = "volume-names/";
    static final String SECRET = "node-secret";
    private static final String[] KINDS = {NODES, MEMBERS, VOLUMES, VOLUME_STATES};

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

    public ByteSequence volume(String volumeId) {
        return bytes(prefix + VOLUMES + volumeId);
    }

    public ByteSequence volumeState(String volumeId) {
        return bytes(prefix + VOLUME_STATES + volumeId);
    }

    public ByteSequence secret() {
        return bytes(prefix + SECRET);
    }

    /** Projects and names are letters, digits, '.', '_' and '-' (the API checks): no escaping needed. */
    public ByteSequence volumeName(String project, String name) {
        return bytes(prefix + VOLUME_NAMES + project + "/" + name);
    }

    /** A key of the cluster cut into its kind ({@link #NODES}, {@link #MEMBERS}, ...) and id; empty for other keys. */
    public Optional<KeyName> parse(ByteSequence key) {
        String text = key.toString(StandardCharsets.UTF_8);
        if (!text.startsWith(prefix)) {
            return Optional.empty();
        }
        String rest = text.substring(prefix.length());
        for (String kind : KINDS) {
            if (rest.startsWith(kind) && rest.length() > kind.length() && rest.indexOf('/', kind.length()) < 0) {
                return Optional.of(new KeyName(kind, rest.substring(kind.length())));
            }
        }
        return Optional.empty();
    }

    /** A parsed key: its kind and the node or volume it is about. */
    public record KeyName(String kind, String id) {
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }
}
