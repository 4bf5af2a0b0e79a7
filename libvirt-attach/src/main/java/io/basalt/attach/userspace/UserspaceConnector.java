package io.basalt.attach.userspace;

import io.basalt.attach.AttachException;
import io.basalt.attach.Attachment;
import io.basalt.attach.AttachmentStore;
import io.basalt.attach.DiskSource;
import io.basalt.attach.VolumeConnector;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.api.Portal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Userspace mode: a bridge process is the NVMe/TCP host and serves the namespace to QEMU over NBD. */
public final class UserspaceConnector implements VolumeConnector {
    private final BridgeProcess bridge;
    private final AttachmentStore store;
    private final String hostNqn;

    public UserspaceConnector(BridgeProcess bridge, AttachmentStore store, String hostNqn) {
        this.bridge = bridge;
        this.store = store;
        this.hostNqn = hostNqn;
    }

    @Override
    public DiskSource connect(Volume volume, String domain, boolean subsystemUsedElsewhere) throws AttachException {
        Portal target = volume.portals().stream()
                .filter(p -> "tcp".equalsIgnoreCase(p.transport()))
                .findFirst()
                .orElseThrow(() -> new AttachException("volume " + volume.id() + " has no TCP portal"));
        Path socket = socket(domain, volume.id());
        long pid = bridge.start(socket, log(domain, volume.id()), target, volume.nqn(), volume.nsid(), hostNqn);
        return new DiskSource.NbdSocket(socket, pid);
    }

    @Override
    public void disconnect(Attachment attachment, boolean subsystemUsedElsewhere) throws AttachException {
        bridge.stop(attachment.bridgePid(), socket(attachment.domain(), attachment.volumeId()),
                log(attachment.domain(), attachment.volumeId()));
    }

    /**
     * A unix socket path must fit in sun_path (108 bytes), which a volume id plus a domain name in a
     * deep state directory does not: the socket is named by a digest of the pair instead.
     */
    private Path socket(String domain, String volumeId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(store.stem(domain, volumeId).getBytes(StandardCharsets.UTF_8));
            return store.path(HexFormat.of().formatHex(digest, 0, 8) + ".sock");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private Path log(String domain, String volumeId) {
        return store.path(store.stem(domain, volumeId) + ".log");
    }
}
