package io.basalt.service.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /metrics} in the Prometheus text exposition format. */
public final class PrometheusEndpoint implements Handler<RoutingContext> {
    public static final String PATH = "/metrics";
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;

    public PrometheusEndpoint(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    /** Scraping only formats what the meters hold, so it is fit for the event loop. */
    @Override
    public void handle(RoutingContext ctx) {
        ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, CONTENT_TYPE)
                .end(registry.scrape());
    }
}
