package io.basalt.attach;

import io.basalt.attach.api.VolumeConnection;

/** Makes a volume reachable on this host in one mode, and undoes that. */
public interface VolumeConnector {
    /**
     * Connects and says where QEMU finds the volume; on failure leaves nothing of its own behind.
     *
     * @param subsystemUsedElsewhere another attachment on this host holds a connection to the same subsystem
     */
    DiskSource connect(VolumeConnection volume, String domain, boolean subsystemUsedElsewhere) throws AttachException;

    void disconnect(Attachment attachment, boolean subsystemUsedElsewhere) throws AttachException;
}
