package io.basalt.cluster.etcd;

import io.basalt.cluster.ClusterException;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waits for etcd's answers, never longer than a bound: a missing answer becomes a {@link ClusterException}. */
public final class EtcdCalls {
    private EtcdCalls() {
    }

    public static <T> T await(CompletableFuture<T> call, Duration timeout, String what) throws ClusterException {
        try {
            return call.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new ClusterException("etcd refused to " + what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            call.cancel(true);
            throw new ClusterException("etcd did not answer within " + timeout.toMillis() + " ms to " + what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            call.cancel(true);
            throw new ClusterException("interrupted while waiting for etcd to " + what, e);
        }
    }
}
