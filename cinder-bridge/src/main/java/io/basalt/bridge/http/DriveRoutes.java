package io.basalt.bridge.http;

import io.basalt.bridge.DriveService;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.api.ReplaceDriveRequest;
import io.basalt.bridge.auth.ApiTokens;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;

import static io.basalt.bridge.http.JsonResponses.body;
import static io.basalt.bridge.http.JsonResponses.hasJsonBody;

/**
 * The node's drives, for its operator only: the list with each drive's state and the rebuild, and the
 * replacement of a failed drive (docs/operations.md, "Replacing a drive"). Added by the node to
 * {@link VolumeApi#router}'s router, behind its token check.
 */
public final class DriveRoutes {
    public static final String DRIVES = VolumeApi.BASE_PATH + "/drives";
    static final String REPLACE = DRIVES + "/:index/replace";
    /** The longest drive index accepted: an erasure-coded node has at most 32 drives. */
    private static final int MAX_INDEX_DIGITS = 2;
    /** A replacement's path the drives can record (see the engine's drive table). */
    static final int MAX_PATH_BYTES = 100;

    private final DriveService drives;
    private final ServiceCalls calls;

    private DriveRoutes(DriveService drives, ServiceCalls calls) {
        this.drives = drives;
        this.calls = calls;
    }

    public static void addTo(Router router, Vertx vertx, DriveService drives) {
        DriveRoutes routes = new DriveRoutes(drives, new ServiceCalls(vertx));
        router.get(DRIVES).handler(ApiTokens::requireAdmin)
                .handler(ctx -> JsonResponses.ok(ctx, routes.calls.run(drives::drives)));
        router.post(REPLACE).handler(ApiTokens::requireAdmin).handler(routes::replace);
    }

    /** 202: the rebuild goes on in the background; the answer is the drive list with its progress. */
    private void replace(RoutingContext ctx) {
        int index = index(ctx.pathParam("index"));
        if (!hasJsonBody(ctx)) {
            return;
        }
        String path = path(body(ctx));
        calls.run(() -> drives.replace(index, path))
                .onSuccess(list -> JsonResponses.json(ctx, 202, list))
                .onFailure(ctx::fail);
    }

    private static int index(String text) {
        if (text == null || text.isEmpty() || text.length() > MAX_INDEX_DIGITS || !text.chars().allMatch(Character::isDigit)) {
            throw new InvalidVolumeRequestException("index", "a drive index is a number from 0 to 31, not '" + text + "'");
        }
        return Integer.parseInt(text);
    }

    private static String path(byte[] body) {
        ReplaceDriveRequest request = RequestValidator.bind(body, ReplaceDriveRequest.class);
        String path = request.path();
        if (path == null || path.isEmpty()) {
            throw new InvalidVolumeRequestException("path", "path is required: the replacement drive's path on the node");
        }
        if (!path.startsWith("/") || path.indexOf('\0') >= 0
                || path.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
            throw new InvalidVolumeRequestException("path", "path must be an absolute path of at most "
                    + MAX_PATH_BYTES + " bytes");
        }
        return path;
    }
}
