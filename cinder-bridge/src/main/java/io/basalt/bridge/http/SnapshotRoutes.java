package io.basalt.bridge.http;

import io.basalt.bridge.SnapshotNotFoundException;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.SnapshotList;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;

import static io.basalt.bridge.http.JsonResponses.body;
import static io.basalt.bridge.http.JsonResponses.hasJsonBody;

/** The snapshot routes: validation on the event loop, the service on a worker. */
final class SnapshotRoutes {
    static final String SNAPSHOTS = "/snapshots";

    private final VolumeService service;
    private final ServiceCalls calls;
    private final RequestValidator validator;

    SnapshotRoutes(VolumeService service, ServiceCalls calls, RequestValidator validator) {
        this.service = service;
        this.calls = calls;
        this.validator = validator;
    }

    void addTo(ProjectRoutes routes) {
        routes.add(HttpMethod.POST, SNAPSHOTS, SnapshotNotFoundException::new, this::create);
        routes.add(HttpMethod.GET, SNAPSHOTS, SnapshotNotFoundException::new, this::list);
        routes.add(HttpMethod.GET, SNAPSHOTS + "/:id", SnapshotNotFoundException::new, this::get);
        routes.add(HttpMethod.DELETE, SNAPSHOTS + "/:id", SnapshotNotFoundException::new, this::delete);
    }

    private void create(RoutingContext ctx, String project) {
        if (!hasJsonBody(ctx)) {
            return;
        }
        CreateSnapshotRequest request = validator.createSnapshot(body(ctx));
        calls.run(() -> IdempotentWrites.create(
                        () -> service.createSnapshot(project, request),
                        () -> service.listSnapshots(project, request.name()),
                        existing -> RetryMatcher.isRetryOf(request, existing)))
                .onSuccess(created -> JsonResponses.created(ctx, created,
                        ProjectRoutes.location(project, SNAPSHOTS, created.object().id())))
                .onFailure(ctx::fail);
    }

    private void list(RoutingContext ctx, String project) {
        String name = validator.nameFilter(ctx.queryParam("name"));
        JsonResponses.ok(ctx, calls.run(() -> new SnapshotList(service.listSnapshots(project, name))));
    }

    private void get(RoutingContext ctx, String project) {
        String id = ctx.pathParam("id");
        JsonResponses.ok(ctx, calls.run(
                () -> service.findSnapshot(project, id).orElseThrow(() -> new SnapshotNotFoundException(id))));
    }

    private void delete(RoutingContext ctx, String project) {
        String id = ctx.pathParam("id");
        calls.run(() -> IdempotentWrites.delete(() -> service.deleteSnapshot(project, id)))
                .onSuccess(done -> JsonResponses.noContent(ctx))
                .onFailure(ctx::fail);
    }
}
