package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Nqn;

import java.util.Objects;

/**
 * A subsystem and an NVMe/TCP address where it is served, as a discovery log entry names them: used
 * for subsystems another target serves (another node of a cluster), which this target's discovery
 * controller lists beside its own.
 */
public record SubsystemPortal(String subnqn, String address, int port) {
    public SubsystemPortal {
        Nqn.requireValid(subnqn);
        Objects.requireNonNull(address);
        if (port < 1 || port > 0xFFFF) {
            throw new IllegalArgumentException("port " + port + " outside 1..65535");
        }
    }
}
