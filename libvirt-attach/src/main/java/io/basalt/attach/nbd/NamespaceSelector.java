package io.basalt.attach.nbd;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.NvmeTransportException;

import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Which namespace of the subsystem to export: a fixed NSID, or the namespace with a UUID (which stays
 * the same when a volume is re-exported under another NSID). Exactly one of the two is set.
 */
public record NamespaceSelector(int nsid, UUID uuid) {
    public NamespaceSelector {
        if ((nsid > 0) == (uuid != null) || nsid < 0) {
            throw new IllegalArgumentException("select a namespace by a positive NSID or by UUID, not both");
        }
    }

    public static NamespaceSelector byNsid(int nsid) {
        return new NamespaceSelector(nsid, null);
    }

    public static NamespaceSelector byUuid(UUID uuid) {
        return new NamespaceSelector(0, uuid);
    }

    /** Finds the NSID among the namespaces the controller shows this host. */
    CompletableFuture<Integer> resolve(HostController controller) {
        return controller.activeNamespaces().thenCompose(active -> find(controller, active, 0));
    }

    private CompletableFuture<Integer> find(HostController controller, int[] active, int index) {
        if (index == active.length) {
            return CompletableFuture.failedFuture(new NvmeTransportException("subsystem " + controller.subnqn()
                    + " shows this host no active namespace " + this));
        }
        int candidate = active[index];
        if (uuid == null) {
            return candidate == nsid ? CompletableFuture.completedFuture(nsid) : find(controller, active, index + 1);
        }
        return controller.namespaceIdentifiers(candidate).thenCompose(ids -> uuid.equals(ids.uuid())
                ? CompletableFuture.completedFuture(candidate) : find(controller, active, index + 1));
    }

    @Override
    public String toString() {
        return uuid == null ? "nsid " + nsid : "uuid " + uuid;
    }
}
