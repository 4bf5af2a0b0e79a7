package io.basalt.service.volume;

import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.Subsystem;
import io.basalt.service.dataplane.VolumeDevice;
import io.basalt.service.engine.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Shows volumes to hosts: the node's one subsystem, whose namespaces are the volumes, each served
 * through the data-plane volume layer over its engine map, visible to the hosts of its ACL.
 */
final class NamespaceExporter {
    private static final Logger LOG = LoggerFactory.getLogger(NamespaceExporter.class);
    static final String MODEL = "Basalt";
    /** Identify Controller's serial number field holds 20 ASCII characters. */
    private static final int SERIAL_LENGTH = 20;

    private final Subsystem subsystem;
    private final Engine engine;
    private final VolumeObservers observers;
    /** Hosts with a DH-HMAC-CHAP secret; none until the node says. Changed under the manager's mutations. */
    private volatile Predicate<String> authenticating = host -> false;

    NamespaceExporter(String subsystemNqn, Engine engine, VolumeObservers observers) {
        this.subsystem = new Subsystem(subsystemNqn, serialOf(subsystemNqn), MODEL);
        this.engine = engine;
        this.observers = observers;
    }

    Subsystem subsystem() {
        return subsystem;
    }

    void expose(VolumeRecord record) {
        var store = engine.volume(record.mapId()).orElseThrow(
                () -> new IllegalStateException("volume " + record.id() + " has no engine map " + record.mapId()));
        Namespace namespace = new Namespace(record.nsid(), record.uuid(), record.nguidBytes(),
                new VolumeDevice(store, false), admittedHosts(record));
        namespace.observer(observers.observerFor(record.id(), record.name()));
        subsystem.addNamespace(namespace);
    }

    void hide(VolumeRecord record) {
        subsystem.removeNamespace(record.nsid());
        observers.volumeDeleted(record.id());
    }

    void allowHosts(VolumeRecord record) {
        subsystem.setAllowedHosts(record.nsid(), admittedHosts(record));
    }

    /** From now on only hosts {@code hasSecret} accepts see volumes that require authentication. */
    void authenticatingHosts(Predicate<String> hasSecret, Collection<VolumeRecord> volumes) {
        authenticating = hasSecret;
        for (VolumeRecord record : volumes) {
            if (record.requireAuthentication()) {
                allowHosts(record);
            }
        }
    }

    /** The namespace's ACL: the volume's hosts, less those without a secret if it requires authentication. */
    private Set<String> admittedHosts(VolumeRecord record) {
        if (!record.requireAuthentication()) {
            return Set.copyOf(record.hosts());
        }
        Set<String> admitted = new HashSet<>();
        for (String host : record.hosts()) {
            if (authenticating.test(host)) {
                admitted.add(host);
            } else {
                LOG.warn("volume {} requires authentication: host {} has no DH-HMAC-CHAP secret and does not see it",
                        record.id(), host);
            }
        }
        return admitted;
    }

    void resized(VolumeRecord record) {
        subsystem.namespaceResized(record.nsid());
    }

    /** The UUID digits of the NQN, which make the serial as unique as the NQN. */
    private static String serialOf(String nqn) {
        String digits = nqn.substring(nqn.lastIndexOf(':') + 1).replace("-", "");
        return digits.length() > SERIAL_LENGTH ? digits.substring(0, SERIAL_LENGTH) : digits;
    }
}
