package io.basalt.bridge.api;

import java.util.List;
import java.util.UUID;

/**
 * A volume as the API shows it: what a host needs to find and connect to it.
 *
 * @param id        the volume's identifier, chosen by the service
 * @param name      the caller's unique name
 * @param sizeBytes capacity in bytes
 * @param nqn       NQN of the subsystem that exports the volume
 * @param nsid      namespace ID of the volume within that subsystem
 * @param uuid      namespace UUID (what hosts see as the namespace's UUID)
 * @param nguid     namespace globally unique identifier, 32 lower-case hex digits
 * @param hosts     host NQNs allowed to see the volume
 * @param portals   addresses at which the subsystem is served
 */
public record Volume(String id, String name, long sizeBytes, String nqn, int nsid, UUID uuid, String nguid,
                     List<String> hosts, List<Portal> portals) {

    public Volume {
        hosts = List.copyOf(hosts);
        portals = List.copyOf(portals);
    }
}
