package io.basalt.service.cluster;

/**
 * A snapshot of a replicated volume, in its record ({@link VolumeDesire#snapshots}): every copy holds one
 * under this id, all taken at one point of the volume's write stream. The API writes it {@link State#WANTED};
 * the primary, with the volume's writes parked, takes its own and writes it {@link State#TAKING}; every
 * in-sync secondary then takes its own and reports; the primary, writes resumed, writes it
 * {@link State#TAKEN}, or removes it when a copy did not take it in time (every copy then deletes its own).
 *
 * @param id              the snapshot's id, the same on every copy
 * @param name            the caller's name, unique in the project
 * @param sizeBytes       the volume's size when the snapshot was asked for
 * @param createdAtMillis when it was asked for, in milliseconds since the epoch
 * @param state           how far it got
 */
record SnapshotEntry(String id, String name, long sizeBytes, long createdAtMillis, State state) {
    SnapshotEntry {
        if (id == null || name == null || state == null) {
            throw new IllegalArgumentException("a snapshot entry needs an id, a name and a state");
        }
    }

    enum State {
        /** Asked for through the API: no copy has taken it yet. */
        WANTED,
        /** The primary took its own and holds writes back: every in-sync secondary takes its own now. */
        TAKING,
        /** Every copy holds it. */
        TAKEN
    }

    SnapshotEntry in(State next) {
        return new SnapshotEntry(id, name, sizeBytes, createdAtMillis, next);
    }
}
