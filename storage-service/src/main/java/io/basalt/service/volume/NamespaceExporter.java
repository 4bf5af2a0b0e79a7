package io.basalt.service.volume;

import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.Subsystem;
import io.basalt.service.dataplane.VolumeDevice;
import io.basalt.service.engine.Engine;

import java.util.Set;

/**
 * Shows volumes to hosts: the node's one subsystem, whose namespaces are the volumes, each served
 * through the data-plane volume layer over its engine map, visible to the hosts of its ACL.
 */
final class NamespaceExporter {
    static final String MODEL = "Basalt";
    /** Identify Controller's serial number field holds 20 ASCII characters. */
    private static final int SERIAL_LENGTH = 20;

    private final Subsystem subsystem;
    private final Engine engine;
    private final VolumeObservers observers;

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
                new VolumeDevice(store, false), Set.copyOf(record.hosts()));
        namespace.observer(observers.observerFor(record.id(), record.name()));
        subsystem.addNamespace(namespace);
    }

    void hide(VolumeRecord record) {
        subsystem.removeNamespace(record.nsid());
        observers.volumeDeleted(record.id());
    }

    void allowHosts(VolumeRecord record) {
        subsystem.setAllowedHosts(record.nsid(), Set.copyOf(record.hosts()));
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
