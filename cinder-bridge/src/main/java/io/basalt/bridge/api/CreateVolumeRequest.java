package io.basalt.bridge.api;

import java.util.List;

/**
 * Body of {@code POST /api/v1/volumes}.
 *
 * @param name      unique name, 1..64 characters of {@code [A-Za-z0-9._-]}
 * @param sizeBytes capacity: positive, a multiple of 512, at most 64 TiB
 * @param hosts     host NQNs allowed to see the volume; may be empty
 */
public record CreateVolumeRequest(String name, long sizeBytes, List<String> hosts) {

    public CreateVolumeRequest {
        hosts = List.copyOf(hosts);
    }
}
