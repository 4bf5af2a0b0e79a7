package io.basalt.attach;

import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.bridge.client.VolumeApiException;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.api.Portal;
import io.basalt.attach.libvirt.GuestDomain;
import io.basalt.attach.libvirt.Hypervisor;
import io.basalt.attach.libvirt.LiveDomainXml;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * Attaches Basalt volumes to running guests and detaches them. An attach either completes or leaves
 * nothing behind: no bridge, no connection, no ACL entry it added.
 */
public final class Attacher {
    private final VolumeApiClient api;
    private final Hypervisor hypervisor;
    private final Map<AttachMode, VolumeConnector> connectors;
    private final AttachmentStore store;
    private final String hostNqn;
    private final Duration detachTimeout;

    public Attacher(VolumeApiClient api, Hypervisor hypervisor, Map<AttachMode, VolumeConnector> connectors,
                    AttachmentStore store, String hostNqn, Duration detachTimeout) {
        this.api = api;
        this.hypervisor = hypervisor;
        this.connectors = new EnumMap<>(connectors);
        this.store = store;
        this.hostNqn = hostNqn;
        this.detachTimeout = detachTimeout;
    }

    public Attachment attach(String domainName, String volumeId, AttachMode mode) throws AttachException {
        VolumeConnector connector = connector(mode);
        try (GuestDomain domain = hypervisor.runningDomain(domainName)) {
            LiveDomainXml live = domain.liveXml();
            if (live.diskWithSerial(volumeId).isPresent() || store.find(domainName, volumeId).isPresent()) {
                throw new AttachException("volume " + volumeId + " is already attached to domain " + domainName);
            }
            Rollback rollback = new Rollback();
            try {
                Volume volume = call(() -> api.volume(volumeId), volumeId, "look up");
                if (!volume.hosts().contains(hostNqn)) {
                    call(() -> api.allowHost(volumeId, hostNqn), volumeId, "add " + hostNqn + " to the ACL of");
                    rollback.add(() -> call(() -> api.denyHost(volumeId, hostNqn), volumeId, "remove " + hostNqn + " from the ACL of"));
                }
                boolean subsystemShared = store.kernelSubsystemUsedElsewhere(domainName, volumeId, volume.nqn());
                DiskSource source = connector.connect(volume, domainName, subsystemShared);
                long bridgePid = source instanceof DiskSource.NbdSocket nbd ? nbd.bridgePid() : 0;
                Attachment attachment = new Attachment(domainName, volumeId, mode, volume.nqn(), bridgePid);
                rollback.add(() -> connector.disconnect(attachment, subsystemShared));
                store.save(attachment);
                rollback.add(() -> store.delete(attachment));
                domain.attachDisk(source.diskXml(volumeId, live.unusedVirtioTargetDev()));
                return attachment;
            } catch (AttachException | RuntimeException e) {
                rollback.undoAll(e);
                throw e;
            }
        }
    }

    /**
     * Removes the disk, waits until the guest has released it, then tears down the connection and,
     * when no other domain on this host uses the volume, this host's ACL entry. A guest that stopped
     * or was undefined holds the disk no more, so for it only the teardown runs.
     */
    public void detach(String domainName, String volumeId) throws AttachException {
        Optional<Attachment> record = store.find(domainName, volumeId);
        if (record.isPresent() && !hypervisor.isRunning(domainName)) {
            release(record.get());
            return;
        }
        try (GuestDomain domain = hypervisor.runningDomain(domainName)) {
            boolean listed = domain.liveXml().diskWithSerial(volumeId).isPresent();
            if (!listed && record.isEmpty()) {
                throw new AttachException("volume " + volumeId + " is not attached to domain " + domainName);
            }
            if (listed) {
                domain.detachDisk(volumeId, detachTimeout);
            }
        }
        if (record.isPresent()) {
            release(record.get());
        } else {
            denyHostUnlessUsedElsewhere(domainName, volumeId);
        }
    }

    private void release(Attachment a) throws AttachException {
        connector(a.mode()).disconnect(a, store.kernelSubsystemUsedElsewhere(a.domain(), a.volumeId(), a.nqn()));
        store.delete(a);
        denyHostUnlessUsedElsewhere(a.domain(), a.volumeId());
    }

    private void denyHostUnlessUsedElsewhere(String domainName, String volumeId) throws AttachException {
        if (!store.volumeUsedElsewhere(domainName, volumeId)) {
            call(() -> api.denyHost(volumeId, hostNqn), volumeId, "remove " + hostNqn + " from the ACL of");
        }
    }

    private VolumeConnector connector(AttachMode mode) {
        VolumeConnector c = connectors.get(mode);
        if (c == null) {
            throw new IllegalArgumentException("no connector for mode " + mode);
        }
        return c;
    }

    private interface ApiCall {
        Volume call() throws VolumeApiException;
    }

    private static Volume call(ApiCall call, String volumeId, String action) throws AttachException {
        try {
            return call.call();
        } catch (VolumeApiException e) {
            if (e.status() == 404) {
                throw new AttachException("unknown volume " + volumeId + ": " + e.getMessage(), e);
            }
            if (e.status() == 0) {
                // the message says what went wrong on the way (unreachable, with its cause; no answer in time)
                throw new AttachException("cannot " + action + " volume " + volumeId + ": " + e.getMessage(), e);
            }
            throw new AttachException("volume API failed to " + action + " volume " + volumeId + ": " + e.getMessage(), e);
        }
    }
}
