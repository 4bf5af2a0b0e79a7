package io.basalt.bridge.api;

/**
 * An address a host dials to reach a volume's subsystem.
 *
 * @param transport "tcp"
 * @param address   IP address or host name
 * @param port      TCP port
 */
public record Portal(String transport, String address, int port) {
}
