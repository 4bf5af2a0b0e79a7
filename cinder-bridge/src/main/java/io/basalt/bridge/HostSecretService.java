package io.basalt.bridge;

import io.basalt.bridge.api.HostAuthentication;

import java.util.Optional;

/**
 * The DH-HMAC-CHAP secrets of hosts, one set per host NQN for the whole node (a host has one secret,
 * whichever volumes it sees). Secrets go in and never come out.
 */
public interface HostSecretService {
    /**
     * Sets (replaces) a host's secret and, for bidirectional authentication, the controller's; the
     * host must authenticate on every connection from then on. Both are in the {@code DHHC-1:} form of
     * {@code nvme gen-dhchap-key}; a malformed one is refused with {@link InvalidVolumeRequestException}.
     */
    HostAuthentication setSecrets(String hostNqn, String hostSecret, String controllerSecret);

    /** Whether the host authenticates, and how; empty when no secret is set for it. */
    Optional<HostAuthentication> authentication(String hostNqn);

    /** Removes the host's secrets: it connects without authentication again. False if it had none. */
    boolean removeSecrets(String hostNqn);
}
