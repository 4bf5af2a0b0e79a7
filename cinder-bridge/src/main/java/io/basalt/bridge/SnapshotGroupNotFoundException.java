package io.basalt.bridge;

/** No snapshot group with that ID exists in the caller's project. */
public final class SnapshotGroupNotFoundException extends NotFoundException {
    public SnapshotGroupNotFoundException(String id) {
        super("snapshot group", id);
    }
}
