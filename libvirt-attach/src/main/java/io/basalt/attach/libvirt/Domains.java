package io.basalt.attach.libvirt;

import io.basalt.attach.AttachException;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.Error;
import org.libvirt.LibvirtException;
import org.libvirt.jna.Libvirt;

/** The guests of one libvirt daemon, reached through libvirt-java. */
public final class Domains implements Hypervisor {
    public static final String DEFAULT_URI = "qemu:///system";
    /**
     * Without a handler of its own the libvirt library prints every error to stderr, before the tool
     * reports the same error as an exception: one failure, two messages. Held in a field so that
     * the garbage collector never frees the callback the C library calls.
     */
    private static final Libvirt.VirErrorCallback ERRORS_AS_EXCEPTIONS_ONLY = (userData, error) -> {
    };

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
            Connect.setErrorCallback(ERRORS_AS_EXCEPTIONS_ONLY);
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
