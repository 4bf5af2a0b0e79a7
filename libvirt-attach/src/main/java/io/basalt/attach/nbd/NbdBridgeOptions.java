package io.basalt.attach.nbd;

import io.basalt.nvmetcp.auth.DhchapCredentials;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What a bridge serves and where from.
 *
 * @param socketPath        the unix socket NBD clients connect to
 * @param targetHost        the NVMe/TCP target's address
 * @param targetPort        its port
 * @param subsystemNqn      the subsystem holding the namespace
 * @param namespace         which namespace of it to export
 * @param hostNqn           the NQN this bridge connects as, which the namespace's ACL must list
 * @param reconnectDeadline how long a request may wait for a lost connection to come back before it fails
 * @param dhchap            the DH-HMAC-CHAP secrets the bridge authenticates with when the target requires
 *                          it; null for none
 */
public record NbdBridgeOptions(Path socketPath, String targetHost, int targetPort, String subsystemNqn,
                               NamespaceSelector namespace, String hostNqn, Duration reconnectDeadline, DhchapCredentials dhchap) {
    public static final Duration DEFAULT_RECONNECT_DEADLINE = Duration.ofSeconds(60);

    public NbdBridgeOptions {
        Objects.requireNonNull(socketPath, "socketPath");
        Objects.requireNonNull(targetHost, "targetHost");
        Objects.requireNonNull(subsystemNqn, "subsystemNqn");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(hostNqn, "hostNqn");
        if (targetPort < 1 || targetPort > 0xFFFF) {
            throw new IllegalArgumentException("target port out of range: " + targetPort);
        }
        if (reconnectDeadline.isNegative() || reconnectDeadline.isZero()) {
            throw new IllegalArgumentException("the reconnect deadline must be positive");
        }
    }

    /** Options without authentication. */
    public NbdBridgeOptions(Path socketPath, String targetHost, int targetPort, String subsystemNqn,
                            NamespaceSelector namespace, String hostNqn, Duration reconnectDeadline) {
        this(socketPath, targetHost, targetPort, subsystemNqn, namespace, hostNqn, reconnectDeadline, null);
    }
}
