package io.basalt.service.replication;

import java.util.concurrent.CompletableFuture;

/**
 * The control plane's record of which copies of one volume are in sync, and its generation: in a
 * cluster, the volume's record in etcd ({@code EtcdInSyncSet}). Each change is one transaction that
 * also bumps the generation, so a node that acted on an older record can be told from one that did not.
 * Calls never block; each completes within its implementation's bound, or fails.
 */
public interface InSyncSet {

    /** Takes {@code nodeId} out of the in-sync set; completes with the new generation once it is recorded. */
    CompletableFuture<Long> remove(String nodeId);

    /** Puts {@code nodeId} back into the in-sync set; completes with the new generation once it is recorded. */
    CompletableFuture<Long> rejoin(String nodeId);
}
