package io.basalt.service.volume;

import io.basalt.nvmetcp.nvmet.CntlidRange;
import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.Subsystem;
import io.basalt.service.dataplane.VolumeDevice;
import io.basalt.service.engine.BlockStore;
import io.basalt.service.engine.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Shows volumes to hosts: the node's one subsystem, whose namespaces are the volumes, each served
 * through the data-plane volume layer over its engine map, visible to the hosts of its ACL. A copy of a
 * replicated volume is shown in a subsystem of its own instead ({@link #volumeNqn}), the same on every
 * node holding a copy, as NSID {@value #VOLUME_NSID} in ANA group {@value #VOLUME_ANA_GROUP}: a host sees
 * one namespace with a path through each of those nodes.
 */
final class NamespaceExporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NamespaceExporter.class);
    static final String MODEL = "Basalt";
    /** Identify Controller's serial number field holds 20 ASCII characters. */
    private static final int SERIAL_LENGTH = 20;
    /** A replicated volume's subsystems are named after the volume, beside the nodes' {@link VolumeRegistry#NQN_PREFIX}. */
    private static final String VOLUME_NQN_PREFIX = "nqn.2026-11.io.basalt:volume:";
    static final int VOLUME_NSID = 1;
    static final int VOLUME_ANA_GROUP = 1;

    private final Subsystem subsystem;
    private final Engine engine;
    private final VolumeObservers observers;
    /** The data-plane device of each shown volume, by volume ID: where its QoS limits apply. */
    private final Map<String, VolumeDevice> devices = new ConcurrentHashMap<>();
    /** The subsystem of each shown replicated volume, by volume ID (the others are in {@link #subsystem}). */
    private final Map<String, Subsystem> volumeSubsystems = new ConcurrentHashMap<>();
    /**
     * Runs commands that wait for their volume's QoS slot. One thread for the node: it only hands
     * commands to the engine, which does not block it.
     */
    private final ScheduledExecutorService qosDelayed = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("basalt-qos").daemon().factory());
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

    /** Shows the volume, in the node's subsystem, through the store {@code through} makes of its engine map's. */
    void expose(VolumeRecord record, UnaryOperator<BlockStore> through) {
        subsystem.addNamespace(namespace(record, record.nsid(), through));
    }

    /**
     * Shows a copy of a replicated volume in its own subsystem, made here with the controller IDs
     * {@code cntlids}: the caller adds it to the target (after setting its ANA state there).
     */
    Subsystem exposeAlone(VolumeRecord record, UnaryOperator<BlockStore> through, CntlidRange cntlids) {
        String nqn = volumeNqn(record.id());
        Subsystem own = new Subsystem(nqn, serialOf(nqn), MODEL, cntlids);
        own.addNamespace(namespace(record, VOLUME_NSID, through));
        volumeSubsystems.put(record.id(), own);
        return own;
    }

    private Namespace namespace(VolumeRecord record, int nsid, UnaryOperator<BlockStore> through) {
        BlockStore store = engine.volume(record.mapId()).orElseThrow(
                () -> new IllegalStateException("volume " + record.id() + " has no engine map " + record.mapId()));
        VolumeDevice device = new VolumeDevice(through.apply(store), false, qosDelayed);
        device.limits(record.qos());
        devices.put(record.id(), device);
        Namespace namespace = new Namespace(nsid, record.uuid(), record.nguidBytes(), device, admittedHosts(record),
                VOLUME_ANA_GROUP);
        namespace.observer(observers.observerFor(record.id(), record.name()));
        return namespace;
    }

    /** Hides the volume from hosts; a replicated volume's subsystem stays, empty, until the caller removes it. */
    void hide(VolumeRecord record) {
        Subsystem own = volumeSubsystems.remove(record.id());
        if (own != null) {
            own.removeNamespace(VOLUME_NSID);
        } else {
            subsystem.removeNamespace(record.nsid());
        }
        devices.remove(record.id());
        observers.volumeDeleted(record.id());
    }

    /** The subsystem NQN of a replicated volume, on every node holding a copy. */
    static String volumeNqn(String volumeId) {
        return VOLUME_NQN_PREFIX + volumeId;
    }

    /**
     * Applies the volume's limits to its I/O from the next command on; a volume not shown (yet) gets them
     * from its record when it is.
     */
    void limit(VolumeRecord record) {
        VolumeDevice device = devices.get(record.id());
        if (device != null) {
            device.limits(record.qos());
        }
    }

    /** Seconds the volume's commands waited for their QoS slot so far (0 for a volume not shown). */
    double throttledSeconds(String volumeId) {
        VolumeDevice device = devices.get(volumeId);
        return device == null ? 0 : device.throttledNanos() / 1e9;
    }

    /**
     * Stops the QoS scheduler. Commands still waiting go to the store now, so every one completes;
     * throttled commands arriving later fail as if the namespace were gone.
     */
    @Override
    public void close() {
        qosDelayed.shutdownNow().forEach(Runnable::run);
    }

    /** A volume not shown (yet) gets its ACL from its record when it is. */
    void allowHosts(VolumeRecord record) {
        if (devices.containsKey(record.id())) {
            Subsystem own = volumeSubsystems.get(record.id());
            if (own != null) {
                own.setAllowedHosts(VOLUME_NSID, admittedHosts(record));
            } else {
                subsystem.setAllowedHosts(record.nsid(), admittedHosts(record));
            }
        }
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
        Subsystem own = volumeSubsystems.get(record.id());
        if (own != null) {
            own.namespaceResized(VOLUME_NSID);
        } else {
            subsystem.namespaceResized(record.nsid());
        }
    }

    /** The UUID digits of the NQN, which make the serial as unique as the NQN. */
    private static String serialOf(String nqn) {
        String digits = nqn.substring(nqn.lastIndexOf(':') + 1).replace("-", "");
        return digits.length() > SERIAL_LENGTH ? digits.substring(0, SERIAL_LENGTH) : digits;
    }
}
