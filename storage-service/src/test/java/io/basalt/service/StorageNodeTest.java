package io.basalt.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.service.config.BasaltConfig;
import io.basalt.service.config.ConfigLoader;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole node on free ports of 127.0.0.1. */
class StorageNodeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Vertx clientVertx;
    private static WebClient client;

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

    @Test
    void servesTheVolumeApiAndMetricsAndKeepsVolumesAcrossRestarts() throws Exception {
        String id;
        try (StorageNode node = StorageNode.start(config())) {
            InetSocketAddress api = node.apiAddress();
            HttpResponse<Buffer> created = await(client.post(api.getPort(), "127.0.0.1", "/api/v1/volumes")
                    .putHeader("Content-Type", "application/json")
                    .sendBuffer(Buffer.buffer("{\"name\":\"v1\",\"sizeBytes\":1048576}")));
            assertEquals(201, created.statusCode(), created.bodyAsString());
            JsonNode volume = JSON.readTree(created.bodyAsString());
            id = volume.get("id").asText();
            JsonNode portal = volume.get("portals").get(0);
            assertEquals("127.0.0.1", portal.get("address").asText());
            assertEquals(node.nvmeAddress().getPort(), portal.get("port").asInt());

            HttpResponse<Buffer> metrics = await(client.get(api.getPort(), "127.0.0.1", "/metrics").send());
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.bodyAsString().contains("basalt_volumes 1.0"), metrics.bodyAsString());
            assertTrue(metrics.bodyAsString().contains("basalt_nvme_connections"), metrics.bodyAsString());
            assertTrue(metrics.bodyAsString().contains("volume=\"" + id + "\""), metrics.bodyAsString());
        }
        try (StorageNode node = StorageNode.start(config())) {
            HttpResponse<Buffer> got = await(client.get(node.apiAddress().getPort(), "127.0.0.1",
                    "/api/v1/volumes/" + id).send());
            assertEquals(200, got.statusCode());
        }
    }

    @Test
    void aTakenApiPortIsAClearErrorAndReleasesEverything() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            StartupException e = assertThrows(StartupException.class,
                    () -> StorageNode.start(config("--api.port=" + taken.getLocalPort())));
            assertTrue(e.getMessage().contains("volume API") && e.getMessage().contains(":" + taken.getLocalPort()),
                    e.getMessage());
        }
        StorageNode.start(config()).close(); // the data directory lock was released
    }

    @Test
    void aTakenNvmePortIsAClearError() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            StartupException e = assertThrows(StartupException.class,
                    () -> StorageNode.start(config("--nvme.port=" + taken.getLocalPort())));
            assertTrue(e.getMessage().contains("NVMe/TCP"), e.getMessage());
        }
    }

    @Test
    void anUnusableDataDirectoryIsAClearError() throws Exception {
        Path file = Files.createFile(dataDir.resolve("not-a-directory"));
        StartupException e = assertThrows(StartupException.class,
                () -> StorageNode.start(config("--data-dir=" + file)));
        assertTrue(e.getMessage().contains("data directory"), e.getMessage());
    }

    private BasaltConfig config(String... overrides) throws IOException {
        List<String> args = new ArrayList<>(List.of("--data-dir", dataDir.toString(),
                "--nvme.port=0", "--nvme.discovery-port=0", "--api.port=0"));
        args.addAll(List.of(overrides));
        return ConfigLoader.load(args, Map.of());
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
