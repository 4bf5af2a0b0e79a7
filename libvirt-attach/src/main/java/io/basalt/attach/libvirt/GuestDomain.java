package io.basalt.attach.libvirt;

import io.basalt.attach.AttachException;

import java.time.Duration;

/** A running guest whose disks change while it runs. */
public interface GuestDomain extends AutoCloseable {
    String name();

    LiveDomainXml liveXml() throws AttachException;

    void attachDisk(String diskXml) throws AttachException;

    /**
     * Asks the guest to release the disk with that serial and returns once the live XML no longer
     * lists it: libvirt returns before the guest has let go, and tearing the connection down
     * earlier would fail the guest's outstanding I/O.
     */
    void detachDisk(String serial, Duration timeout) throws AttachException;

    @Override
    void close();
}
