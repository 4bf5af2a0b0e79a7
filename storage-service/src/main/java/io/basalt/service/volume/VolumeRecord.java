package io.basalt.service.volume;

import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * What the registry keeps about one volume.
 *
 * @param id        identifier, also the image file's name
 * @param name      the caller's unique name
 * @param sizeBytes capacity
 * @param blockSize logical block size, fixed when the volume is created
 * @param nsid      namespace ID in the node's subsystem
 * @param uuid      namespace UUID
 * @param nguid     namespace GUID, 32 hex digits
 * @param hosts     host NQNs allowed to see the namespace
 */
public record VolumeRecord(String id, String name, long sizeBytes, int blockSize, int nsid, UUID uuid,
                           String nguid, List<String> hosts) {

    public VolumeRecord {
        hosts = List.copyOf(hosts);
    }

    VolumeRecord withHosts(List<String> newHosts) {
        return new VolumeRecord(id, name, sizeBytes, blockSize, nsid, uuid, nguid, newHosts);
    }

    byte[] nguidBytes() {
        return HexFormat.of().parseHex(nguid);
    }
}
