package io.basalt.bridge.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.basalt.bridge.ChangeNotMadeException;
import io.basalt.bridge.InsufficientCapacityException;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.NotFoundException;
import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.api.ApiError;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes JSON answers, and turns the service's exceptions into the API's status codes. */
final class JsonResponses {
    static final String JSON = "application/json";

    private static final Logger LOG = LoggerFactory.getLogger(JsonResponses.class);

    private JsonResponses() {
    }

    static void failure(RoutingContext ctx, Throwable failure) {
        switch (failure) {
            case InvalidVolumeRequestException e -> error(ctx, 400, e.getMessage(), e.field());
            case NotFoundException e -> error(ctx, 404, e.getMessage(), null);
            case VolumeConflictException e -> error(ctx, 409, e.getMessage(), e.field());
            case InsufficientCapacityException e -> error(ctx, 507, e.getMessage(), null);
            case ChangeNotMadeException e -> {
                ctx.response().putHeader("Retry-After", "5");
                error(ctx, 503, e.getMessage(), null);
            }
            case null -> error(ctx, 500, "internal error", null);
            default -> {
                LOG.error("{} {} failed", ctx.request().method(), ctx.request().path(), failure);
                // The exception's text may name the node's classes and state: it stays in the log.
                error(ctx, 500, "internal error; the node's log has the details", null);
            }
        }
    }

    static void error(RoutingContext ctx, int status, String message, String field) {
        json(ctx, status, new ApiError(message, field));
    }

    static void json(RoutingContext ctx, int status, Object body) {
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

    /** 200 with what the service call returns, or its failure's status. */
    static void ok(RoutingContext ctx, Future<?> result) {
        result.onSuccess(body -> json(ctx, 200, body)).onFailure(ctx::fail);
    }

    /** 201 with the new object's location, or 200 when a retry found the object made before. */
    static void created(RoutingContext ctx, Created<?> created, String location) {
        if (created.isNew()) {
            ctx.response().putHeader(HttpHeaders.LOCATION, location);
        }
        json(ctx, created.status(), created.object());
    }

    static void noContent(RoutingContext ctx) {
        ctx.response().setStatusCode(204).end();
    }

    /** Requests with a body must say it is JSON; answers 415 and returns false otherwise. */
    static boolean hasJsonBody(RoutingContext ctx) {
        String contentType = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
        String mediaType = contentType == null ? "" : contentType.split(";", 2)[0].trim();
        if (mediaType.equalsIgnoreCase(JSON)) {
            return true;
        }
        error(ctx, 415, "Content-Type must be " + JSON + (contentType == null ? "" : ", not " + contentType), null);
        return false;
    }

    static byte[] body(RoutingContext ctx) {
        Buffer body = ctx.body().buffer();
        return body == null ? new byte[0] : body.getBytes();
    }
}
