package io.basalt.bridge;

/** The volume, snapshot, snapshot group, host secret or drive a request names does not exist, or belongs to another project. */
public sealed class NotFoundException extends RuntimeException
        permits VolumeNotFoundException, SnapshotNotFoundException, SnapshotGroupNotFoundException,
        HostSecretNotFoundException, DriveNotFoundException {
    private final String id;

    protected NotFoundException(String kind, String id) {
        super("no " + kind + " with id " + id);
        this.id = id;
    }

    public String id() {
        return id;
    }
}
