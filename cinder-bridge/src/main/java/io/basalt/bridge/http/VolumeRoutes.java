package io.basalt.bridge.http;

import io.basalt.bridge.VolumeNotFoundException;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Qos;
import io.basalt.bridge.api.UpdateVolumeRequest;
import io.basalt.bridge.api.VolumeList;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

import static io.basalt.bridge.http.JsonResponses.body;
import static io.basalt.bridge.http.JsonResponses.hasJsonBody;

/** The volume routes: validation on the event loop, the service on a worker. */
final class VolumeRoutes {
    static final String VOLUMES = "/volumes";

    private final VolumeService service;
    private final ServiceCalls calls;
    private final RequestValidator validator;

    VolumeRoutes(VolumeService service, ServiceCalls calls, RequestValidator validator) {
        this.service = service;
        this.calls = calls;
        this.validator = validator;
    }

    void addTo(ProjectRoutes routes) {
        routes.add(HttpMethod.POST, VOLUMES, VolumeNotFoundException::new, this::create);
        routes.add(HttpMethod.GET, VOLUMES, VolumeNotFoundException::new, this::list);
        routes.add(HttpMethod.GET, VOLUMES + "/:id", VolumeNotFoundException::new, this::get);
        routes.add(HttpMethod.PUT, VOLUMES + "/:id", VolumeNotFoundException::new, this::extend);
        routes.add(HttpMethod.PATCH, VOLUMES + "/:id", VolumeNotFoundException::new, this::update);
        routes.add(HttpMethod.DELETE, VOLUMES + "/:id", VolumeNotFoundException::new, this::delete);
        routes.add(HttpMethod.PUT, VOLUMES + "/:id/qos", VolumeNotFoundException::new, this::setQos);
        routes.add(HttpMethod.PUT, VOLUMES + "/:id/hosts", VolumeNotFoundException::new, this::setHosts);
        routes.add(HttpMethod.POST, VOLUMES + "/:id/hosts", VolumeNotFoundException::new, this::addHost);
        routes.add(HttpMethod.DELETE, VOLUMES + "/:id/hosts/:nqn", VolumeNotFoundException::new, this::removeHost);
        routes.add(HttpMethod.POST, VOLUMES + "/:id/revert", VolumeNotFoundException::new, this::revert);
    }

    private void create(RoutingContext ctx, String project) {
        if (!hasJsonBody(ctx)) {
            return;
        }
        CreateVolumeRequest request = validator.createVolume(body(ctx));
        calls.run(() -> IdempotentWrites.create(
                        () -> service.create(project, request),
                        () -> service.list(project, request.name()),
                        existing -> RetryMatcher.isRetryOf(request, existing)))
                .onSuccess(created -> JsonResponses.created(ctx, created,
                        ProjectRoutes.location(project, VOLUMES, created.object().id())))
                .onFailure(ctx::fail);
    }

    private void list(RoutingContext ctx, String project) {
        String name = validator.nameFilter(ctx.queryParam("name"));
        JsonResponses.ok(ctx, calls.run(() -> new VolumeList(service.list(project, name))));
    }

    private void get(RoutingContext ctx, String project) {
        String id = ctx.pathParam("id");
        JsonResponses.ok(ctx, calls.run(() -> service.find(project, id).orElseThrow(() -> new VolumeNotFoundException(id))));
    }

    private void extend(RoutingContext ctx, String project) {
        if (!hasJsonBody(ctx)) {
            return;
        }
        String id = ctx.pathParam("id");
        long sizeBytes = validator.extendedSize(body(ctx));
        JsonResponses.ok(ctx, calls.run(() -> service.extend(project, id, sizeBytes)));
    }

    private void update(RoutingContext ctx, String project) {
        if (!hasJsonBody(ctx)) {
            return;
        }
        String id = ctx.pathParam("id");
        UpdateVolumeRequest request = validator.updateVolume(body(ctx));
        JsonResponses.ok(ctx, calls.run(() -> service.update(project, id, request)));
    }

    private void delete(RoutingContext ctx, String project) {
        String id = ctx.pathParam("id");
        calls.run(() -> IdempotentWrites.delete(() -> service.delete(project, id)))
                .onSuccess(done -> JsonResponses.noContent(ctx))
                .onFailure(ctx::fail);
    }

    private void setQos(RoutingContext ctx, String project) {
        if (!hasJsonBody(ctx)) {
            return;
        }
        String id = ctx.pathParam("id");
        Qos qos = validator.qos(body(ctx));
        JsonResponses.ok(ctx, calls.run(() -> service.setQos(project, id, qos)));
    }

    private void setHosts(RoutingContext ctx, String project) {
        if (!hasJsonBody(ctx)) {
            return;
        }
        String id = ctx.pathParam("id");
        List<String> hosts = validator.hosts(body(ctx));
        JsonResponses.ok(ctx, calls.run(() -> service.setHosts(project, id, hosts)));
    }

    private void addHost(RoutingContext ctx, String project) {
        if (!hasJsonBody(ctx)) {
            return;
        }
        String id = ctx.pathParam("id");
        String host = validator.hostToAdd(body(ctx));
        JsonResponses.ok(ctx, calls.run(() -> service.addHost(project, id, host)));
    }

    private void removeHost(RoutingContext ctx, String project) {
        String id = ctx.pathParam("id");
        String host = validator.hostToRemove(ctx.pathParam("nqn"));
        JsonResponses.ok(ctx, calls.run(() -> service.removeHost(project, id, host)));
    }

    private void revert(RoutingContext ctx, String project) {
        if (!hasJsonBody(ctx)) {
            return;
        }
        String id = ctx.pathParam("id");
        String snapshotId = validator.revertSnapshotId(body(ctx));
        JsonResponses.ok(ctx, calls.run(() -> service.revert(project, id, snapshotId)));
    }
}
