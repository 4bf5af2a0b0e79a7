package io.basalt.bridge;

/** No snapshot with that ID exists in the caller's project. */
public final class SnapshotNotFoundException extends NotFoundException {
    public SnapshotNotFoundException(String id) {
        super("snapshot", id);
    }
}
