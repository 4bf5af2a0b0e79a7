package io.basalt.bridge;

import io.basalt.bridge.api.DriveList;

/** The port through which the API shows the node's drives and replaces a failed one. */
public interface DriveService {
    DriveList drives();

    /**
     * Replaces failed drive {@code index} by the drive at {@code path} and starts rebuilding it in the
     * background; returns once the replacement is recorded on the drives. Blocks on drive I/O.
     *
     * @throws DriveNotFoundException         if the node has no drive {@code index}
     * @throws InvalidVolumeRequestException  if the path cannot be used (not blank, too small, another drive's)
     * @throws VolumeConflictException        if the drive has not failed, another drive is being rebuilt, or
     *                                        the node is not erasure-coded
     */
    DriveList replace(int index, String path);
}
