package io.basalt.nvmetcp.host;

import java.util.concurrent.CompletableFuture;

/** Adapts the callback API to a future, for admin commands and tests (one allocation per command). */
final class CommandFuture extends CompletableFuture<Completion> implements IoCompletion {
    @Override
    public void complete(int status, long result) {
        complete(new Completion(status, result));
    }

    @Override
    public void failed(NvmeTransportException cause) {
        completeExceptionally(cause);
    }
}
