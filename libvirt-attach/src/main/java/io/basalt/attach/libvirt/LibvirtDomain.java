package io.basalt.attach.libvirt;

import io.basalt.attach.AttachException;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

import io.basalt.attach.Deadline;

import java.time.Duration;

/** A running libvirt domain and the connection it was found on; closing releases both. */
final class LibvirtDomain implements GuestDomain {
    /** VIR_DOMAIN_AFFECT_LIVE, which libvirt-java has no constant for: change the running guest, not its persistent definition. */
    private static final int AFFECT_LIVE = 1;

    private final Connect connection;
    private final Domain domain;
    private final String name;

    LibvirtDomain(Connect connection, Domain domain, String name) {
        this.connection = connection;
        this.domain = domain;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LiveDomainXml liveXml() throws AttachException {
        try {
            return LiveDomainXml.parse(domain.getXMLDesc(0));
        } catch (LibvirtException e) {
            throw new AttachException("cannot read the live XML of domain " + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void attachDisk(String diskXml) throws AttachException {
        try {
            domain.attachDeviceFlags(diskXml, AFFECT_LIVE);
        } catch (LibvirtException e) {
            throw new AttachException("libvirt refused to attach the disk to domain " + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void detachDisk(String serial, Duration timeout) throws AttachException {
        String disk = liveXml().diskWithSerial(serial)
                .orElseThrow(() -> new AttachException("domain " + name + " has no disk with serial " + serial));
        try {
            domain.detachDeviceFlags(disk, AFFECT_LIVE);
        } catch (LibvirtException e) {
            throw new AttachException("libvirt refused to detach disk " + serial + " from domain " + name + ": " + e.getMessage(), e);
        }
        Deadline deadline = Deadline.after(timeout);
        while (liveXml().diskWithSerial(serial).isPresent()) {
            if (deadline.expired()) {
                throw new AttachException("domain " + name + " still lists disk " + serial + " " + timeout.toSeconds()
                        + " s after the detach request; the guest has not released it");
            }
            deadline.pause("domain " + name + " to release disk " + serial);
        }
    }

    @Override
    public void close() {
        try {
            domain.free();
        } catch (LibvirtException e) {
            // the connection's close below releases what is left
        }
        closeQuietly(connection);
    }

    static void closeQuietly(Connect connection) {
        try {
            connection.close();
        } catch (LibvirtException e) {
            // nothing more can be done about a connection that will not close
        }
    }
}
