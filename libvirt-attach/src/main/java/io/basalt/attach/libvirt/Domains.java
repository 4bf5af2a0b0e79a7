package io.basalt.attach.libvirt;

import io.basalt.attach.AttachException;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.Error;
import org.libvirt.LibvirtException;

/** The guests of one libvirt daemon, reached through libvirt-java. */
public final class Domains implements Hypervisor {
    public static final String DEFAULT_URI = "qemu:///system";

    private final String uri;

    public Domains(String uri) {
        this.uri = uri;
    }

    @Override
    public GuestDomain runningDomain(String name) throws AttachException {
        Connect connection = connect();
        try {
            Domain domain = lookUp(connection, name);
            if (domain.isActive() != 1) {
                throw new AttachException("domain " + name + " is not running");
            }
            return new LibvirtDomain(connection, domain, name);
        } catch (AttachException e) {
            LibvirtDomain.closeQuietly(connection);
            throw e;
        } catch (LibvirtException e) {
            LibvirtDomain.closeQuietly(connection);
            throw new AttachException("libvirt at " + uri + " failed on domain " + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean isRunning(String name) throws AttachException {
        Connect connection = connect();
        try {
            return connection.domainLookupByName(name).isActive() == 1;
        } catch (LibvirtException e) {
            if (isNoDomain(e)) {
                return false;
            }
            throw new AttachException("libvirt at " + uri + " failed on domain " + name + ": " + e.getMessage(), e);
        } finally {
            LibvirtDomain.closeQuietly(connection);
        }
    }

    private Connect connect() throws AttachException {
        try {
            return new Connect(uri);
        } catch (LibvirtException e) {
            throw new AttachException("cannot connect to libvirt at " + uri + ": " + e.getMessage(), e);
        } catch (LinkageError e) {
            // libvirt-java reaches libvirt through JNA; without the client library every call fails this way
            throw new AttachException("cannot load the libvirt client library (Debian package libvirt0): " + e.getMessage(), e);
        }
    }

    private static boolean isNoDomain(LibvirtException e) {
        return e.getError() != null && e.getError().getCode() == Error.ErrorNumber.VIR_ERR_NO_DOMAIN;
    }

    private Domain lookUp(Connect connection, String name) throws LibvirtException, AttachException {
        try {
            return connection.domainLookupByName(name);
        } catch (LibvirtException e) {
            if (isNoDomain(e)) {
                throw new AttachException("no domain named " + name + " at " + uri, e);
            }
            throw e;
        }
    }
}
