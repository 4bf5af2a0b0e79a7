package io.basalt.bridge;

import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Volume;

import java.util.List;
import java.util.Optional;

/**
 * The control plane behind the volume API, implemented by the storage service.
 *
 * <p>Requests arrive already validated for shape (names, sizes, NQNs); the service enforces what
 * only it can know: unique names, its own block size, free namespace IDs. Methods may block on
 * file I/O, so callers must not invoke them on an event loop. A failed call changes nothing.
 */
public interface VolumeService {

    /**
     * @throws VolumeConflictException       if a volume with that name exists
     * @throws InvalidVolumeRequestException if the service cannot honour a field (e.g. its block size)
     */
    Volume create(CreateVolumeRequest request);

    List<Volume> list();

    Optional<Volume> find(String id);

    /**
     * Replaces the host NQNs allowed to see the volume.
     *
     * @throws VolumeNotFoundException if there is no such volume
     */
    Volume setHosts(String id, List<String> hosts);

    /** @throws VolumeNotFoundException if there is no such volume */
    void delete(String id);
}
