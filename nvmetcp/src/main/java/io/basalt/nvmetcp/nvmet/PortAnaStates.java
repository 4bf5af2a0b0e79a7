package io.basalt.nvmetcp.nvmet;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The ANA states of one port of the target, each subsystem's groups apart. Keyed by subsystem NQN, so
 * a state can be set before the subsystem is added (a node serving a copy that must not take I/O sets
 * its path inaccessible first) and outlives a subsystem removed and added again.
 */
final class PortAnaStates {
    private final ConcurrentHashMap<String, AnaGroupStates> bySubsystem = new ConcurrentHashMap<>();

    /** The states of {@code subsystemNqn}'s groups through this port; a controller keeps them for its life. */
    AnaGroupStates of(String subsystemNqn) {
        return bySubsystem.computeIfAbsent(subsystemNqn, nqn -> new AnaGroupStates());
    }

    /** Forgets a subsystem that no longer exists, so a port does not keep states of every subsystem it ever had. */
    void forget(String subsystemNqn) {
        bySubsystem.remove(subsystemNqn);
    }
}
