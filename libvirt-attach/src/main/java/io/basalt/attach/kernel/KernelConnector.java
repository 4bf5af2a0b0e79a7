package io.basalt.attach.kernel;

import io.basalt.attach.AttachException;
import io.basalt.attach.Attachment;
import io.basalt.attach.DiskSource;
import io.basalt.attach.VolumeConnector;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.api.Portal;

import java.time.Duration;

/** Kernel mode: nvme-tcp connects, QEMU opens the namespace's block device. */
public final class KernelConnector implements VolumeConnector {
    private final NvmeCli nvme;
    private final SysfsNamespaces namespaces;
    private final String hostNqn;
    private final Duration deviceTimeout;

    public KernelConnector(NvmeCli nvme, SysfsNamespaces namespaces, String hostNqn, Duration deviceTimeout) {
        this.nvme = nvme;
        this.namespaces = namespaces;
        this.hostNqn = hostNqn;
        this.deviceTimeout = deviceTimeout;
    }

    @Override
    public DiskSource connect(Volume volume, String domain, boolean subsystemUsedElsewhere) throws AttachException {
        try {
            nvme.connect(volume, hostNqn);
        } catch (AttachException e) {
            // The kernel loads nvme-tcp on the first connect when it can; nvme-cli then only says
            // "Failed to scan topology: No such file or directory", which names neither cause nor remedy.
            if (!namespaces.nvmeTcpLoaded()) {
                throw new AttachException("the nvme-tcp kernel module is not loaded and could not be loaded"
                        + " (modprobe nvme-tcp; or attach with --mode userspace, which needs no kernel module): "
                        + e.getMessage(), e);
            }
            throw e;
        }
        try {
            return new DiskSource.BlockDevice(namespaces.awaitDevice(volume.uuid().toString(), deviceTimeout));
        } catch (AttachException e) {
            if (!subsystemUsedElsewhere) {
                try {
                    nvme.disconnect(volume.nqn());
                } catch (AttachException undo) {
                    e.addSuppressed(undo);
                }
            }
            throw e;
        }
    }

    @Override
    public void disconnect(Attachment attachment, boolean subsystemUsedElsewhere) throws AttachException {
        // one subsystem carries every volume of a node: the connection stays while any of them is attached here
        if (!subsystemUsedElsewhere) {
            nvme.disconnect(attachment.nqn());
        }
    }
}
