package io.basalt.bridge;

/** No volume has the given ID. */
public final class VolumeNotFoundException extends RuntimeException {
    public VolumeNotFoundException(String id) {
        super("no volume with id " + id);
    }
}
