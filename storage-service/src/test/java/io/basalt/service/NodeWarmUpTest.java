package io.basalt.service;

import com.fasterxml.jackson.databind.JsonNode;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.basalt.service.config.ConfigException;
import io.basalt.service.engine.drive.FileMedia;
import io.basalt.service.engine.drive.MemoryMedia;
import io.netty.channel.nio.NioEventLoopGroup;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node's warm-up ({@code node.warmup-seconds}): it drives real I/O, leaves nothing behind in the
 * node (volumes, engine space, metrics, connections), can be turned off, and a failing warm-up does
 * not keep the node from starting. Nothing here asserts how long anything takes.
 */
class NodeWarmUpTest extends LiveNodeTest {
    /** The warm-up on its own: real commands over loopback, and it returns once its time is up. */
    @Test
    void warmUpRunsRealCommandsAndEnds() {
        NioEventLoopGroup group = new NioEventLoopGroup(2);
        try {
            NodeWarmUp.Outcome outcome = NodeWarmUp.run(group, TargetOptions.defaults("WARM-UP-TEST"), 2,
                    Duration.ofSeconds(1), FileMedia.INSTANCE, dataDir.resolve("scratch"));
            assertNull(outcome.failure());
            assertTrue(outcome.commands() > 0, "the warm-up completed no command");
            assertFalse(Files.exists(dataDir.resolve("scratch")), "the scratch drive is left");
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Event loops that are gone: the warm-up reports the failure instead of throwing. */
    @Test
    void warmUpThatCannotRunReportsWhy() {
        NioEventLoopGroup group = new NioEventLoopGroup(1);
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        try (MemoryMedia media = new MemoryMedia()) {
            NodeWarmUp.Outcome outcome = NodeWarmUp.run(group, TargetOptions.defaults("WARM-UP-TEST"), 1,
                    Duration.ofSeconds(1), media, dataDir.resolve("scratch"));
            assertNotNull(outcome.failure());
            assertEquals(0, outcome.commands());
        }
    }

    /**
     * A node with a volume is started again with a warm-up: the warm-up did I/O, yet the node has the
     * same volume, the same engine space, no I/O counted on its volume, no other volume in its metrics
     * and no connection left open, nor its scratch drive file (without NodeWarmUp deleting its scratch
     * directory this test and {@link #warmUpRunsRealCommandsAndEnds} fail).
     */
    @Test
    void warmUpLeavesNoTraceInTheNode() throws Exception {
        String id;
        JsonNode before;
        try (StorageNode node = StorageNode.start(config("--node.warmup-seconds=0"))) {
            HttpResponse<Buffer> created = await(client.post(node.apiAddress().getPort(), HOST, "/api/v1/volumes")
                    .putHeader("Authorization", "Bearer " + adminToken())
                    .putHeader("Content-Type", "application/json")
                    .sendBuffer(Buffer.buffer("{\"name\":\"v1\",\"sizeBytes\":1048576}")));
            assertEquals(201, created.statusCode(), created.bodyAsString());
            id = JSON.readTree(created.bodyAsString()).get("id").asText();
            before = stats(node);
        }
        AtomicReference<NodeWarmUp.Outcome> warmedUp = new AtomicReference<>();
        StorageNode.WarmUp recorded = (loops, options, queues, duration, media, scratch) -> {
            NodeWarmUp.Outcome outcome = NodeWarmUp.run(loops, options, queues, duration, media, scratch);
            warmedUp.set(outcome);
            return outcome;
        };
        try (StorageNode node = StorageNode.start(config("--node.warmup-seconds=1"), recorded)) {
            assertNull(warmedUp.get().failure());
            assertTrue(warmedUp.get().commands() > 0, "the warm-up completed no command");
            assertFalse(Files.exists(dataDir.resolve(StorageNode.WARM_UP_DIRECTORY)), "the scratch drive is left");
            JsonNode after = stats(node);
            for (String field : List.of("volumes", "snapshots", "usedBytes", "provisionedBytes", "freeBytes")) {
                assertEquals(before.get(field), after.get(field), field + ": " + after);
            }
            String metrics = await(client.get(node.apiAddress().getPort(), HOST, "/metrics")
                    .putHeader("Authorization", "Bearer " + adminToken()).send()).bodyAsString();
            assertTrue(metrics.contains("basalt_nvme_connections 0.0"), metrics);
            for (String line : metrics.lines().filter(l -> l.contains("volume=\"")).toList()) {
                assertTrue(line.contains("volume=\"" + id + "\""), "a volume the node does not have: " + line);
                if (line.contains("_total{")) {
                    assertTrue(line.endsWith(" 0.0"), "I/O counted on the node's volume: " + line);
                }
            }
        }
    }

    @Test
    void warmUpCanBeTurnedOff() throws Exception {
        AtomicReference<Duration> ran = new AtomicReference<>();
        StorageNode.WarmUp recorded = (loops, options, queues, duration, media, scratch) -> {
            ran.set(duration);
            return new NodeWarmUp.Outcome(0, null);
        };
        StorageNode.start(config("--node.warmup-seconds=0"), recorded).close();
        assertNull(ran.get(), "node.warmup-seconds=0 still warmed up");
        StorageNode.start(config("--node.warmup-seconds=3"), recorded).close();
        assertEquals(Duration.ofSeconds(3), ran.get());
        assertThrows(ConfigException.class, () -> config("--node.warmup-seconds=61"));
        assertThrows(ConfigException.class, () -> config("--node.warmup-seconds=-1"));
    }

    /**
     * A warm-up that throws costs the node its speed, not its start: the node serves its API. Without
     * StorageNode's catch around the warm-up this test fails (the start fails with the exception).
     */
    @Test
    void nodeStartsWhenItsWarmUpFails() throws Exception {
        StorageNode.WarmUp failing = (loops, options, queues, duration, media, scratch) -> {
            throw new IllegalStateException("warm-up broke");
        };
        try (StorageNode node = StorageNode.start(config("--node.warmup-seconds=1"), failing)) {
            assertEquals(0, stats(node).get("volumes").asInt());
        }
    }


    private JsonNode stats(StorageNode node) throws Exception {
        HttpResponse<Buffer> stats = await(client.get(node.apiAddress().getPort(), HOST, "/api/v1/stats")
                .putHeader("Authorization", "Bearer " + adminToken()).send());
        assertEquals(200, stats.statusCode(), stats.bodyAsString());
        return JSON.readTree(stats.bodyAsString());
    }


}
