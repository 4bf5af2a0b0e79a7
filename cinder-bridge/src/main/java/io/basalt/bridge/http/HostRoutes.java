package io.basalt.bridge.http;

import io.basalt.bridge.HostSecretNotFoundException;
import io.basalt.bridge.HostSecretService;
import io.basalt.bridge.auth.ApiTokens;
import io.basalt.bridge.auth.Caller;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import static io.basalt.bridge.http.JsonResponses.body;
import static io.basalt.bridge.http.JsonResponses.hasJsonBody;

/**
 * The routes of hosts' in-band authentication secrets, for the node's operator only: a host's secret
 * holds for every volume it sees, whichever project owns them.
 */
final class HostRoutes {
    static final String DHCHAP = VolumeApi.BASE_PATH + "/hosts/:nqn/dhchap";

    private final HostSecretService secrets;
    private final ServiceCalls calls;
    private final RequestValidator validator;

    HostRoutes(HostSecretService secrets, ServiceCalls calls, RequestValidator validator) {
        this.secrets = secrets;
        this.calls = calls;
        this.validator = validator;
    }

    void addTo(Router router) {
        router.put(DHCHAP).handler(this::set);
        router.get(DHCHAP).handler(this::get);
        router.delete(DHCHAP).handler(this::remove);
    }

    /** The host NQN of the path, or null after answering 403 to a caller who is not the operator. */
    private String adminHost(RoutingContext ctx) {
        if (!(ApiTokens.caller(ctx) instanceof Caller.Admin)) {
            JsonResponses.error(ctx, 403, "only the node's admin token may manage host secrets", null);
            return null;
        }
        return validator.hostToRemove(ctx.pathParam("nqn"));
    }

    private void set(RoutingContext ctx) {
        String host = adminHost(ctx);
        if (host == null || !hasJsonBody(ctx)) {
            return;
        }
        RequestBodies.SetHostSecrets request = validator.hostSecrets(body(ctx));
        JsonResponses.ok(ctx, calls.run(() -> secrets.setSecrets(host, request.hostSecret(), request.controllerSecret())));
    }

    private void get(RoutingContext ctx) {
        String host = adminHost(ctx);
        if (host != null) {
            JsonResponses.ok(ctx, calls.run(() -> secrets.authentication(host).orElseThrow(() -> new HostSecretNotFoundException(host))));
        }
    }

    private void remove(RoutingContext ctx) {
        String host = adminHost(ctx);
        if (host != null) {
            calls.run(() -> {
                if (!secrets.removeSecrets(host)) {
                    throw new HostSecretNotFoundException(host);
                }
            }).onSuccess(done -> JsonResponses.noContent(ctx)).onFailure(ctx::fail);
        }
    }
}
