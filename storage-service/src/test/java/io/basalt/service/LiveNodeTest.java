package io.basalt.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.service.config.BasaltConfig;
import io.basalt.service.config.ConfigLoader;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Tests of a whole node in this JVM, on free ports of 127.0.0.1 with its data in a temporary
 * directory, spoken to through its HTTP API by one Vert.x web client shared by the class's tests.
 */
abstract class LiveNodeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String HOST = "127.0.0.1";
    static Vertx clientVertx;
    static WebClient client;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void client() {
        clientVertx = Vertx.vertx();
        client = WebClient.create(clientVertx);
    }

    @AfterAll
    static void closeClient() throws Exception {
        await(clientVertx.close());
    }

    /** A node with one small engine drive, the given keys ({@code --key=value}) on top. */
    BasaltConfig config(String... overrides) {
        List<String> args = new ArrayList<>(List.of("--data-dir", dataDir.toString(),
                "--nvme.port=0", "--nvme.discovery-port=0", "--api.port=0",
                "--engine.drive-size=256MiB", "--engine.segment-size=2MiB"));
        args.addAll(List.of(overrides));
        return ConfigLoader.load(args, Map.of());
    }

    /** The admin token the node generated into its data directory. */
    String adminToken() throws IOException {
        return Files.readString(dataDir.resolve(AdminToken.FILE_NAME), StandardCharsets.US_ASCII).trim();
    }

    static HttpRequest<Buffer> authorized(HttpRequest<Buffer> request, String token) {
        return request.putHeader("Authorization", "Bearer " + token);
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
