package io.basalt.bridge.http;

import io.basalt.bridge.ClusterService;
import io.basalt.bridge.ClusterUnavailableException;
import io.basalt.bridge.auth.ApiTokens;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.Optional;
import java.util.function.Function;

/**
 * The cluster's routes, for the node's operator only (like the node's stats, they show every project's
 * nodes). A node that runs alone answers them 404, saying it is not in a cluster.
 */
final class ClusterRoutes {
    static final String CLUSTER = VolumeApi.BASE_PATH + "/cluster";
    static final String NODES = CLUSTER + "/nodes";
    static final String NOT_IN_A_CLUSTER = "this node is not in a cluster: it runs alone (no etcd endpoints configured)";

    /** Joining takes a round trip to etcd, or the rest of a previous lease's TTL after a restart. */
    private static final String RETRY_AFTER_SECONDS = "2";

    private final Optional<ClusterService> cluster;

    ClusterRoutes(Optional<ClusterService> cluster) {
        this.cluster = cluster;
    }

    void addTo(Router router) {
        router.get(CLUSTER).handler(ApiTokens::requireAdmin).handler(ctx -> answer(ctx, ClusterService::overview));
        router.get(NODES).handler(ApiTokens::requireAdmin).handler(ctx -> answer(ctx, ClusterService::nodes));
    }

    /** The answers come from the node's cached member list, so they are made on the event loop. */
    private void answer(RoutingContext ctx, Function<ClusterService, Object> read) {
        if (cluster.isEmpty()) {
            JsonResponses.error(ctx, 404, NOT_IN_A_CLUSTER, null);
            return;
        }
        try {
            JsonResponses.json(ctx, 200, read.apply(cluster.get()));
        } catch (ClusterUnavailableException e) {
            ctx.response().putHeader("Retry-After", RETRY_AFTER_SECONDS);
            JsonResponses.error(ctx, 503, e.getMessage(), null);
        }
    }
}
