package io.basalt.bridge.http;

import io.basalt.bridge.SnapshotGroupNotFoundException;
import io.basalt.bridge.SnapshotGroupService;
import io.basalt.bridge.api.CreateSnapshotGroupRequest;
import io.basalt.bridge.api.SnapshotGroupList;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;

import static io.basalt.bridge.http.JsonResponses.body;
import static io.basalt.bridge.http.JsonResponses.hasJsonBody;

/** The snapshot group routes: validation on the event loop, the service on a worker. */
final class SnapshotGroupRoutes {
    static final String SNAPSHOT_GROUPS = "/snapshot-groups";

    private final SnapshotGroupService service;
    private final ServiceCalls calls;
    private final RequestValidator validator;

    SnapshotGroupRoutes(SnapshotGroupService service, ServiceCalls calls, RequestValidator validator) {
        this.service = service;
        this.calls = calls;
        this.validator = validator;
    }

    void addTo(ProjectRoutes routes) {
        routes.add(HttpMethod.POST, SNAPSHOT_GROUPS, SnapshotGroupNotFoundException::new, this::create);
        routes.add(HttpMethod.GET, SNAPSHOT_GROUPS, SnapshotGroupNotFoundException::new, this::list);
        routes.add(HttpMethod.GET, SNAPSHOT_GROUPS + "/:id", SnapshotGroupNotFoundException::new, this::get);
        routes.add(HttpMethod.DELETE, SNAPSHOT_GROUPS + "/:id", SnapshotGroupNotFoundException::new, this::delete);
    }

    private void create(RoutingContext ctx, String project) {
        if (!hasJsonBody(ctx)) {
            return;
        }
        CreateSnapshotGroupRequest request = validator.createSnapshotGroup(body(ctx));
        calls.run(() -> IdempotentWrites.create(
                        () -> service.createSnapshotGroup(project, request),
                        () -> service.listSnapshotGroups(project, request.name()),
                        existing -> RetryMatcher.isRetryOf(request, existing)))
                .onSuccess(created -> JsonResponses.created(ctx, created,
                        ProjectRoutes.location(project, SNAPSHOT_GROUPS, created.object().id())))
                .onFailure(ctx::fail);
    }

    private void list(RoutingContext ctx, String project) {
        String name = validator.nameFilter(ctx.queryParam("name"));
        JsonResponses.ok(ctx, calls.run(() -> new SnapshotGroupList(service.listSnapshotGroups(project, name))));
    }

    private void get(RoutingContext ctx, String project) {
        String id = ctx.pathParam("id");
        JsonResponses.ok(ctx, calls.run(() -> service.findSnapshotGroup(project, id)
                .orElseThrow(() -> new SnapshotGroupNotFoundException(id))));
    }

    private void delete(RoutingContext ctx, String project) {
        String id = ctx.pathParam("id");
        calls.run(() -> IdempotentWrites.delete(() -> service.deleteSnapshotGroup(project, id)))
                .onSuccess(done -> JsonResponses.noContent(ctx))
                .onFailure(ctx::fail);
    }
}
