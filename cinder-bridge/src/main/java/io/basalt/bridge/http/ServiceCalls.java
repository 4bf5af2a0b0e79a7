package io.basalt.bridge.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.concurrent.Callable;

/** Runs service calls on worker threads, because the service may block and event loops must not. */
final class ServiceCalls {
    private final Vertx vertx;

    ServiceCalls(Vertx vertx) {
        this.vertx = vertx;
    }

    /** Unordered: requests are independent, and the service serialises what must be serialised. */
    <T> Future<T> run(Callable<T> call) {
        return vertx.executeBlocking(call, false);
    }

    Future<Void> run(Runnable call) {
        return run(() -> {
            call.run();
            return null;
        });
    }
}
