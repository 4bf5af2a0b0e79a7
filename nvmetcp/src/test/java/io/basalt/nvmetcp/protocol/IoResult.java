package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.Completion;
import io.basalt.nvmetcp.host.IoCompletion;
import io.basalt.nvmetcp.host.NvmeTransportException;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A test's completion of one command, awaited with a bound. */
public final class IoResult extends CompletableFuture<Completion> implements IoCompletion {
    public static final long TIMEOUT_SECONDS = 10;

    @Override
    public void complete(int status, long result) {
        complete(new Completion(status, result));
    }

    @Override
    public void failed(NvmeTransportException cause) {
        completeExceptionally(cause);
    }

    /** The completion; fails the test if none arrives in time or the connection failed. */
    public Completion await() {
        return await(this);
    }

    public int status() {
        return await().status();
    }

    public static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } catch (ExecutionException e) {
            throw new AssertionError("failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("no completion within " + TIMEOUT_SECONDS + " s", e);
        }
    }

    /** The exception {@code future} fails with; fails the test if it succeeds or takes too long. */
    public static Throwable failure(CompletableFuture<?> future) {
        try {
            Object value = future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure, got " + value);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError("no completion within " + TIMEOUT_SECONDS + " s", e);
        }
    }
}
