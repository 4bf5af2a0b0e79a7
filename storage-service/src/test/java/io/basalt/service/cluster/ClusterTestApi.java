package io.basalt.service.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The API of test nodes in a cluster, called with the admin token, the arguments that start such nodes,
 * and the waits for what the nodes' watches deliver.
 */
final class ClusterTestApi implements AutoCloseable {
    static final String ADMIN_TOKEN = "admin-token-0123456789";
    private static final String HOST = "127.0.0.1";

    private static final ObjectMapper JSON = new ObjectMapper();

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

    /** The same node with a drive file of the size it had in memory, so that it can restart. */
    static List<String> onDisk(List<String> args) {
        return args.stream().map(arg -> arg.startsWith("--engine.drives=memory:")
                ? "--engine.drive-size=" + arg.substring("--engine.drives=memory:".length()) : arg).toList();
    }

    void awaitLiveNodes(StorageNode observer, int live) throws Exception {
        for (int attempt = 0; attempt < 300; attempt++) {
            HttpResponse<Buffer> answer = send(observer, "GET", "/api/v1/cluster", null);
            if (answer.statusCode() == 200 && JSON.readTree(answer.bodyAsString()).get("liveNodes").asInt() == live) {
                return;
            }
            Thread.sleep(100);
        }
        fail("the cluster never had " + live + " live nodes");
    }

    /** Other nodes see a change once their watch has delivered it: within 10 s here. */
    void awaitAnswer(StorageNode node, String path, Predicate<HttpResponse<Buffer>> expected) throws Exception {
        HttpResponse<Buffer> answer = null;
        for (int attempt = 0; attempt < 100; attempt++) {
            answer = send(node, "GET", path, null);
            if (expected.test(answer)) {
                return;
            }
            Thread.sleep(100);
        }
        fail(path + " never answered as expected; last: " + answer.statusCode() + " " + answer.bodyAsString());
    }

    JsonNode stats(StorageNode node) throws Exception {
        return JSON.readTree(send(node, "GET", "/api/v1/stats", null).bodyAsString());
    }

    HttpResponse<Buffer> send(StorageNode node, String method, String path, JsonObject body) throws Exception {
        return send(node, HttpMethod.valueOf(method), path, body);
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
