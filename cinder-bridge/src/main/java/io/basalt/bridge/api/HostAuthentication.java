package io.basalt.bridge.api;

/**
 * How a host authenticates (its secrets are never shown).
 *
 * @param hostNqn       the host
 * @param bidirectional whether a controller secret is set, so that the node proves itself to the host too
 */
public record HostAuthentication(String hostNqn, boolean bidirectional) {
}
