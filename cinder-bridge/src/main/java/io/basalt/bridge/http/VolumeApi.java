package io.basalt.bridge.http;

import io.basalt.bridge.HostSecretService;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.Health;
import io.basalt.bridge.auth.ApiTokens;
import io.basalt.bridge.openapi.OpenApiDocument;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The HTTP routes of the volume API. Service calls run on worker threads because they may block;
 * authentication, validation and JSON encoding are cheap and stay on the event loop.
 */
public final class VolumeApi {
    public static final String BASE_PATH = "/api/v1";
    public static final String HEALTH_PATH = BASE_PATH + "/health";
    public static final String OPENAPI_PATH = BASE_PATH + "/openapi.json";
    public static final String STATS_PATH = BASE_PATH + "/stats";
    /** A create or hosts request with hundreds of host NQNs still fits with room to spare. */
    static final long MAX_BODY_BYTES = 1 << 20;

    private VolumeApi() {
    }

    /**
     * A router serving the volume API under {@value #BASE_PATH}, every route but health and the
     * OpenAPI document behind {@code tokens}. Callers may add their own routes (such as
     * {@code /metrics}, behind {@link ApiTokens#requireValidToken()}); errors of every route are
     * answered as JSON.
     */
    public static Router router(Vertx vertx, VolumeService service, HostSecretService hostSecrets, ApiTokens tokens) {
        Router router = Router.router(vertx);
        Buffer openApi = Buffer.buffer(OpenApiDocument.load().toJson());
        // Registered before the token check, which therefore never sees them.
        router.get(HEALTH_PATH).handler(ctx -> JsonResponses.json(ctx, 200, Health.OK));
        router.get(OPENAPI_PATH).handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, JsonResponses.JSON)
                .end(openApi));

        router.route(BASE_PATH + "/*").handler(tokens.requireValidToken());
        router.route(BASE_PATH + "/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));

        ServiceCalls calls = new ServiceCalls(vertx);
        router.get(STATS_PATH).handler(ctx -> JsonResponses.ok(ctx, calls.run(service::stats)));
        RequestValidator validator = new RequestValidator();
        ProjectRoutes routes = new ProjectRoutes(router, validator);
        new VolumeRoutes(service, calls, validator).addTo(routes);
        new SnapshotRoutes(service, calls, validator).addTo(routes);
        new HostRoutes(hostSecrets, calls, validator).addTo(router);

        router.errorHandler(404, ctx -> JsonResponses.error(ctx, 404, "no such resource: " + ctx.request().path(), null));
        router.errorHandler(405, ctx -> JsonResponses.error(ctx, 405,
                ctx.request().method() + " is not supported on " + ctx.request().path(), null));
        router.errorHandler(413, ctx -> JsonResponses.error(ctx, 413,
                "request body is larger than " + MAX_BODY_BYTES + " bytes", null));
        router.errorHandler(500, ctx -> JsonResponses.failure(ctx, ctx.failure()));
        return router;
    }
}
