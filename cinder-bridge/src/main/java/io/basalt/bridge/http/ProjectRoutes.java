package io.basalt.bridge.http;

import io.basalt.bridge.NotFoundException;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.auth.ApiTokens;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;

/**
 * Adds each project-scoped route twice, once under {@code /api/v1} (the default project) and once
 * under {@code /api/v1/projects/{project}}, with one handler behind both. Before the handler runs,
 * the project is validated and the caller's token must be allowed to use it; a project token on
 * another project's path is answered as if the object did not exist, so that nothing about other
 * projects leaks.
 */
final class ProjectRoutes {
    static final String PROJECT_PARAM = "project";
    static final List<String> PREFIXES = List.of(VolumeApi.BASE_PATH, VolumeApi.BASE_PATH + "/projects/:" + PROJECT_PARAM);

    /** A route's handler, given the project its path names. */
    @FunctionalInterface
    interface ProjectHandler {
        void handle(RoutingContext ctx, String project);
    }

    private final Router router;
    private final RequestValidator validator;

    ProjectRoutes(Router router, RequestValidator validator) {
        this.router = router;
        this.validator = validator;
    }

    /**
     * @param path    below the prefix, e.g. {@code /volumes/:id}
     * @param missing what a foreign project's path answers when it names an object by {@code :id}
     */
    void add(HttpMethod method, String path, Function<String, NotFoundException> missing, ProjectHandler handler) {
        for (String prefix : PREFIXES) {
            router.route(method, prefix + path).handler(ctx -> {
                String named = ctx.pathParam(PROJECT_PARAM);
                String project = named == null ? VolumeService.DEFAULT_PROJECT : validator.project(named);
                if (ApiTokens.caller(ctx).mayUse(project)) {
                    handler.handle(ctx, project);
                } else if (ctx.pathParam("id") != null) {
                    throw missing.apply(ctx.pathParam("id"));
                } else {
                    ctx.fail(404);
                }
            });
        }
    }

    /**
     * Where object {@code id} of {@code collection} (e.g. "/volumes") is found; the default
     * project's objects are reachable under both prefixes, and the short one is given.
     */
    static String location(String project, String collection, String id) {
        String prefix = VolumeService.DEFAULT_PROJECT.equals(project)
                ? VolumeApi.BASE_PATH
                : VolumeApi.BASE_PATH + "/projects/" + project;
        return prefix + collection + "/" + URLEncoder.encode(id, StandardCharsets.UTF_8);
    }
}
