package io.basalt.bridge.http;

import io.basalt.bridge.ClusterService;
import io.basalt.bridge.HostSecretService;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.Health;
import io.basalt.bridge.auth.ApiTokens;
import io.basalt.bridge.openapi.OpenApiDocument;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.Optional;

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
    /** A connection that sends nothing for this long (a half-sent request, an idle keep-alive) is closed. */
    static final int IDLE_TIMEOUT_SECONDS = 30;

    private VolumeApi() {
    }

    /** Server options every server of this API uses (callers add TLS): idle connections time out. */
    public static HttpServerOptions serverOptions() {
        return new HttpServerOptions().setIdleTimeout(IDLE_TIMEOUT_SECONDS);
    }

    /**
     * For {@code HttpServer.invalidRequestHandler}: requests the HTTP decoder refused (a request line
     * too long, headers too large, a malformed request) are answered in JSON too, then closed.
     */
    public static void answerInvalidRequest(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        int status;
        String message;
        if (cause instanceof TooLongHttpLineException) {
            status = 414;
            message = "the request line is too long";
        } else if (cause instanceof TooLongHttpHeaderException) {
            status = 431;
            message = "the request headers are too large";
        } else {
            status = 400;
            message = "the request is not valid HTTP";
        }
        request.response().setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, JsonResponses.JSON)
                .putHeader(HttpHeaders.CONNECTION, "close")
                .end(new JsonObject().put("error", message).toBuffer())
                .onComplete(done -> request.connection().close());
    }

    /**
     * A router serving the volume API under {@value #BASE_PATH}, every route but health and the
     * OpenAPI document behind {@code tokens}. Callers may add their own routes (such as
     * {@code /metrics}, behind {@link ApiTokens#requireValidToken()} and {@link ApiTokens#requireAdmin}); errors of every route are
     * answered as JSON. {@code cluster} is empty on a node that runs alone.
     */
    public static Router router(Vertx vertx, VolumeService service, HostSecretService hostSecrets, ApiTokens tokens,
                                Optional<ClusterService> cluster) {
        Router router = Router.router(vertx);
        Buffer openApi = Buffer.buffer(OpenApiDocument.load().toJson());
        router.route().handler(PathSegments::refuseUnlessLiteral);
        // Registered before the token check, which therefore never sees them.
        router.get(HEALTH_PATH).handler(ctx -> JsonResponses.json(ctx, 200, Health.OK));
        router.get(OPENAPI_PATH).handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, JsonResponses.JSON)
                .end(openApi));

        router.route(BASE_PATH + "/*").handler(tokens.requireValidToken());
        router.route(BASE_PATH + "/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));

        ServiceCalls calls = new ServiceCalls(vertx);
        router.get(STATS_PATH).handler(ApiTokens::requireAdmin)
                .handler(ctx -> JsonResponses.ok(ctx, calls.run(service::stats)));
        RequestValidator validator = new RequestValidator();
        ProjectRoutes routes = new ProjectRoutes(router, validator);
        new VolumeRoutes(service, calls, validator).addTo(routes);
        new SnapshotRoutes(service, calls, validator).addTo(routes);
        new SnapshotGroupRoutes(service, calls, validator).addTo(routes);
        new HostRoutes(hostSecrets, calls, validator).addTo(router);
        new ClusterRoutes(cluster).addTo(router);

        router.errorHandler(400, ctx -> JsonResponses.error(ctx, 400, "the request is malformed", null));
        router.errorHandler(404, ctx -> JsonResponses.error(ctx, 404, "no such resource: " + ctx.request().path(), null));
        router.errorHandler(405, ctx -> JsonResponses.error(ctx, 405,
                ctx.request().method() + " is not supported on " + ctx.request().path(), null));
        router.errorHandler(413, ctx -> JsonResponses.error(ctx, 413,
                "request body is larger than " + MAX_BODY_BYTES + " bytes", null));
        router.errorHandler(500, ctx -> JsonResponses.failure(ctx, ctx.failure()));
        return router;
    }
}
