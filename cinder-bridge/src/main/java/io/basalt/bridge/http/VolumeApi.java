package io.basalt.bridge.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.VolumeNotFoundException;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.ApiError;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Health;
import io.basalt.bridge.api.HostsRequest;
import io.basalt.bridge.api.VolumeList;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Callable;

/**
 * The HTTP routes of the volume API. Service calls run on worker threads because they may block;
 * validation and JSON encoding are cheap and stay on the event loop.
 */
public final class VolumeApi {
    public static final String BASE_PATH = "/api/v1";
    static final String VOLUMES_PATH = BASE_PATH + "/volumes";
    /** A create or hosts request with hundreds of host NQNs still fits with room to spare. */
    static final long MAX_BODY_BYTES = 1 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(VolumeApi.class);
    private static final String JSON = "application/json";

    private final Vertx vertx;
    private final VolumeService service;
    private final VolumeRequestValidator validator = new VolumeRequestValidator();

    private VolumeApi(Vertx vertx, VolumeService service) {
        this.vertx = vertx;
        this.service = service;
    }

    /**
     * A router serving the volume API under {@value #BASE_PATH}. Callers may add their own routes
     * (such as {@code /metrics}) to it; errors of every route are answered as JSON.
     */
    public static Router router(Vertx vertx, VolumeService service) {
        return new VolumeApi(vertx, service).routes(Router.router(vertx));
    }

    private Router routes(Router router) {
        router.route(BASE_PATH + "/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
        router.get(BASE_PATH + "/health").handler(this::health);
        router.post(VOLUMES_PATH).handler(this::create);
        router.get(VOLUMES_PATH).handler(this::list);
        router.get(VOLUMES_PATH + "/:id").handler(this::get);
        router.put(VOLUMES_PATH + "/:id/hosts").handler(this::setHosts);
        router.delete(VOLUMES_PATH + "/:id").handler(this::delete);

        router.errorHandler(404, ctx -> error(ctx, 404, "no such resource: " + ctx.request().path(), null));
        router.errorHandler(405, ctx -> error(ctx, 405,
                ctx.request().method() + " is not supported on " + ctx.request().path(), null));
        router.errorHandler(413, ctx -> error(ctx, 413,
                "request body is larger than " + MAX_BODY_BYTES + " bytes", null));
        router.errorHandler(500, ctx -> failure(ctx, ctx.failure()));
        return router;
    }

    private void health(RoutingContext ctx) {
        blocking(() -> new Health("ok", service.list().size()))
                .onSuccess(health -> json(ctx, 200, health))
                .onFailure(ctx::fail);
    }

    private void create(RoutingContext ctx) {
        if (!hasJsonBody(ctx)) {
            return;
        }
        CreateVolumeRequest request = validator.createRequest(body(ctx));
        blocking(() -> service.create(request))
                .onSuccess(volume -> {
                    ctx.response().putHeader(HttpHeaders.LOCATION, VOLUMES_PATH + "/" + volume.id());
                    json(ctx, 201, volume);
                })
                .onFailure(ctx::fail);
    }

    private void list(RoutingContext ctx) {
        blocking(() -> new VolumeList(service.list()))
                .onSuccess(volumes -> json(ctx, 200, volumes))
                .onFailure(ctx::fail);
    }

    private void get(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        blocking(() -> service.find(id).orElseThrow(() -> new VolumeNotFoundException(id)))
                .onSuccess(volume -> json(ctx, 200, volume))
                .onFailure(ctx::fail);
    }

    private void setHosts(RoutingContext ctx) {
        if (!hasJsonBody(ctx)) {
            return;
        }
        String id = ctx.pathParam("id");
        HostsRequest request = validator.hostsRequest(body(ctx));
        blocking(() -> service.setHosts(id, request.hosts()))
                .onSuccess(volume -> json(ctx, 200, volume))
                .onFailure(ctx::fail);
    }

    private void delete(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        blocking(() -> {
            service.delete(id);
            return null;
        })
                .onSuccess(ignored -> ctx.response().setStatusCode(204).end())
                .onFailure(ctx::fail);
    }

    /** Unordered: requests are independent, and the service serialises what must be serialised. */
    private <T> Future<T> blocking(Callable<T> call) {
        return vertx.executeBlocking(call, false);
    }

    private static boolean hasJsonBody(RoutingContext ctx) {
        String contentType = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
        String mediaType = contentType == null ? "" : contentType.split(";", 2)[0].trim();
        if (mediaType.equalsIgnoreCase(JSON)) {
            return true;
        }
        error(ctx, 415, "Content-Type must be " + JSON
                + (contentType == null ? "" : ", not " + contentType), null);
        return false;
    }

    private static byte[] body(RoutingContext ctx) {
        Buffer body = ctx.body().buffer();
        return body == null ? new byte[0] : body.getBytes();
    }

    private static void failure(RoutingContext ctx, Throwable failure) {
        switch (failure) {
            case InvalidVolumeRequestException e -> error(ctx, 400, e.getMessage(), e.field());
            case VolumeNotFoundException e -> error(ctx, 404, e.getMessage(), null);
            case VolumeConflictException e -> error(ctx, 409, e.getMessage(), e.field());
            case null -> error(ctx, 500, "internal error", null);
            default -> {
                LOG.error("{} {} failed", ctx.request().method(), ctx.request().path(), failure);
                error(ctx, 500, "internal error: " + failure.getMessage(), null);
            }
        }
    }

    private static void error(RoutingContext ctx, int status, String message, String field) {
        json(ctx, status, new ApiError(message, field));
    }

    private static void json(RoutingContext ctx, int status, Object body) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) {
            return;
        }
        byte[] bytes;
        try {
            bytes = ApiJson.MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            LOG.error("cannot encode response to {} {}", ctx.request().method(), ctx.request().path(), e);
            response.setStatusCode(500).end();
            return;
        }
        response.setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
                .end(Buffer.buffer(bytes));
    }
}
