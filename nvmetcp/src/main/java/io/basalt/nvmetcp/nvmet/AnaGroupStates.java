package io.basalt.nvmetcp.nvmet;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The ANA state of every ANA group of one subsystem as seen through one port of the target, the way a
 * host sees one path (ANA group IDs are the subsystem's own: the same group number in two subsystems is
 * two groups). Groups never set are optimized, so a single-port target behaves as before ANA states
 * existed. I/O reads a state with a plain array load (no allocation per command); changes are rare
 * and synchronized.
 */
final class AnaGroupStates {
    private final AtomicReferenceArray<AnaState> states = new AtomicReferenceArray<>(Namespace.MAX_ANA_GROUP + 1);
    /** The target's ANA change count when each group last changed on this port (descriptor CHGCNT). */
    private final long[] changeCounts = new long[Namespace.MAX_ANA_GROUP + 1];

    AnaState state(int anaGroup) {
        AnaState state = states.get(anaGroup);
        return state == null ? AnaState.OPTIMIZED : state;
    }

    /** Sets a group's state; false (and nothing recorded) when it already was in that state. */
    synchronized boolean set(int anaGroup, AnaState state, long changeCount) {
        if (state(anaGroup) == state) {
            return false;
        }
        states.set(anaGroup, state);
        changeCounts[anaGroup] = changeCount;
        return true;
    }

    synchronized long changeCount(int anaGroup) {
        return changeCounts[anaGroup];
    }
}
