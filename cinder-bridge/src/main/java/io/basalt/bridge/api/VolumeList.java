package io.basalt.bridge.api;

import java.util.List;

/** Body of {@code GET /api/v1/volumes}; an object rather than a bare array so fields can be added later. */
public record VolumeList(List<Volume> volumes) {

    public VolumeList {
        volumes = List.copyOf(volumes);
    }
}
