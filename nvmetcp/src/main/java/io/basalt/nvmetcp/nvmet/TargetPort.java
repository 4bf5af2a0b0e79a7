package io.basalt.nvmetcp.nvmet;

/**
 * A listening address of the target.
 *
 * @param bindAddress       address to listen on
 * @param port              TCP port
 * @param advertisedAddress address written into discovery log entries (what hosts should dial)
 * @param discoveryOnly     true for a port that serves only the discovery controller (8009); such
 *                          ports are not listed as subsystem ports in the discovery log
 */
public record TargetPort(String bindAddress, int port, String advertisedAddress, boolean discoveryOnly) {
}
