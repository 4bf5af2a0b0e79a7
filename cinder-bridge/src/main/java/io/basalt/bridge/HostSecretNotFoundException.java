package io.basalt.bridge;

/** No DH-HMAC-CHAP secret is set for that host NQN. */
public final class HostSecretNotFoundException extends NotFoundException {
    public HostSecretNotFoundException(String hostNqn) {
        super("host secret", hostNqn);
    }
}
