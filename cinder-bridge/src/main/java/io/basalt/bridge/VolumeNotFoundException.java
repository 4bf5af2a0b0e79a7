package io.basalt.bridge;

/** No volume with that ID exists in the caller's project. */
public final class VolumeNotFoundException extends NotFoundException {
    public VolumeNotFoundException(String id) {
        super("volume", id);
    }
}
