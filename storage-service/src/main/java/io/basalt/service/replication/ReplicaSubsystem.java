package io.basalt.service.replication;

import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.Subsystem;

import java.util.Set;
import java.util.UUID;

/**
 * A secondary's copy of one volume as its primary reaches it: an internal subsystem of its own,
 * {@code <prefix>:replica:<volume id>}, whose one namespace (NSID 1) is the copy behind a
 * {@link GenerationFence} and is visible to the cluster's nodes' host NQNs only, never to a volume's
 * hosts (see docs/cluster.md).
 */
public record ReplicaSubsystem(Subsystem subsystem, GenerationFence fence) {
    public static final int NSID = 1;
    private static final String MODEL = "Basalt replica";

    /** The subsystem NQN of {@code volumeId}'s copies, under the node's NQN {@code prefix}. */
    public static String nqn(String prefix, String volumeId) {
        return prefix + ":replica:" + volumeId;
    }

    /**
     * @param copy         the secondary's own data-plane device over its copy
     * @param generation   the newest generation the secondary knows for the volume
     * @param nodeHostNqns the host NQNs of the cluster's nodes: the only hosts that may connect
     */
    public static ReplicaSubsystem of(String nqn, String serial, BlockDevice copy, long generation,
                                      Set<String> nodeHostNqns, UUID uuid, byte[] nguid) {
        GenerationFence fence = new GenerationFence(copy, generation);
        Subsystem subsystem = new Subsystem(nqn, serial, MODEL);
        subsystem.addNamespace(new Namespace(NSID, uuid, nguid, fence, nodeHostNqns));
        return new ReplicaSubsystem(subsystem, fence);
    }
}
