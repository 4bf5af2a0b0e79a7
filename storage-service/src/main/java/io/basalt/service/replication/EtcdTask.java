package io.basalt.service.replication;

import io.basalt.cluster.ClusterException;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/** Work that calls etcd (each call bounded) and reads its records, run on a control thread, never an event loop. */
@FunctionalInterface
interface EtcdTask<T> {
    T run() throws ClusterException, IOException;

    /** Runs {@code task} on {@code executor}; a failure completes the future exceptionally. */
    static <T> CompletableFuture<T> supply(Executor executor, EtcdTask<T> task) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return task.run();
            } catch (ClusterException | IOException e) {
                throw new CompletionException(e);
            }
        }, executor);
    }
}
