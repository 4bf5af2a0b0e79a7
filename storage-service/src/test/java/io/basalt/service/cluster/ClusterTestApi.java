package io.basalt.service.cluster;

import io.basalt.service.StorageNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The API of test nodes in a cluster, called with the admin token, and the arguments that start such nodes. */
final class ClusterTestApi implements AutoCloseable {
    static final String ADMIN_TOKEN = "admin-token-0123456789";
    private static final String HOST = "127.0.0.1";

    private final Vertx vertx = Vertx.vertx();
    private final WebClient client = WebClient.create(vertx);

    /** A node with an in-memory drive of {@code drive} (such as 64MiB) in cluster 'test' on {@code etcd}. */
    static List<String> args(Path dir, String name, String failureDomain, String drive, URI etcd) {
        return new ArrayList<>(List.of("--data-dir", dir.resolve(name).toString(), "--nvme.port=0",
                "--nvme.discovery-port=0", "--api.port=0", "--engine.drives=memory:" + drive,
                "--engine.segment-size=2MiB", "--cluster.etcd-endpoints=" + etcd, "--cluster.name=test",
                "--cluster.failure-domain=" + failureDomain, "--cluster.capacity-refresh-seconds=1",
                "--api.admin-token=" + ADMIN_TOKEN));
    }

    HttpResponse<Buffer> get(StorageNode node, String path) throws Exception {
        return send(node, HttpMethod.GET, path, null);
    }

    HttpResponse<Buffer> send(StorageNode node, HttpMethod method, String path, JsonObject body) throws Exception {
        HttpRequest<Buffer> request = client.request(method, node.apiAddress().getPort(), HOST, path)
                .putHeader("Authorization", "Bearer " + ADMIN_TOKEN);
        return await(body == null ? request.send() : request.sendJsonObject(body));
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        await(vertx.close());
    }
}
