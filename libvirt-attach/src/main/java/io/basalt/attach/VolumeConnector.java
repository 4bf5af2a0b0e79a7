package io.basalt.attach;

import io.basalt.bridge.api.Volume;
import io.basalt.bridge.api.Portal;

/** Makes a volume reachable on this host in one mode, and undoes that. */
public interface VolumeConnector {
    /**
     * Connects and says where QEMU finds the volume; on failure leaves nothing of its own behind.
     *
     * @param subsystemUsedElsewhere another attachment on this host holds a connection to the same subsystem
     */
    DiskSource connect(Volume volume, String domain, boolean subsystemUsedElsewhere) throws AttachException;

    void disconnect(Attachment attachment, boolean subsystemUsedElsewhere) throws AttachException;
}
