package io.basalt.service.engine;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Recovery of a map far bigger than the recovering JVM's heap could hold as data: 10M mapped 4 KiB
 * blocks (40 GiB logical, about 120 MiB of map in memory at 12 bytes a block), recovered by a child
 * JVM started with {@code -Xmx512m}. Bounded-memory recovery is what defect 4 of issue 9 asks: a
 * checkpoint or a recovery that held the whole image, or every scanned segment, in one heap array
 * would not fit.
 *
 * <p>The blocks are compressible (a 16-byte tag and LBA, then zeros; the volume compresses), so the
 * engine's LZ4 stores each in a few dozen bytes and the drive stays a few hundred MiB. Two recoveries:
 * <ol>
 *   <li>after a clean close (the checkpoint covers everything, nothing is replayed);</li>
 *   <li>after the node overwrote and unmapped part of the volume and crashed without a checkpoint,
 *       so the child loads the older checkpoint and replays the log tail on top of it.</li>
 * </ol>
 * The child ({@link RecoveryChild}) checks the map's totals against the parent's figures and reads
 * back a sample of blocks; it is stopped by its PID whatever happens.
 *
 * <p>{@code -Dbasalt.largemap.blocks=N} changes the map size (default 10,000,000).
 */
@Tag("process")
class LargeMapRecoveryTest {
    static final long BLOCKS = Long.getLong("basalt.largemap.blocks", 10_000_000L);
    static final String CHILD_HEAP = "-Xmx512m";
    private static final int WRITE_BLOCKS = 256;
    private static final int WRITES_IN_FLIGHT = 8;
    /** The log tail: runs of {@link #TAIL_RUN} blocks every {@link #tailStride} blocks get tag 2. */
    static final int TAIL_RUN = 64;
    static final int TAIL_RUNS = 1000;
    /** The tail also unmaps the last blocks of the volume. */
    static final int TAIL_UNMAPPED = 1000;
    private static final long CHILD_SECONDS = 240;

    @Test
    void tenMillionMappedBlocksRecoverInAHeapFarBelowTheMappedSize(@TempDir Path dir) throws Exception {
        UUID node = UUID.randomUUID();
        EngineConfig config = config(dir, node, BLOCKS);
        long started = System.nanoTime();
        int id;
        MapUsage written;
        try (Engine engine = Engine.open(config)) {
            id = engine.createVolume(EngineHarness.BLOCK, BLOCKS, true);
            writeAll(engine.volume(id).orElseThrow());
            written = MapUsage.of(engine, id);
        }
        long writeMillis = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("[large-map] wrote %,d blocks in %,d ms, %s; drive file %,d MiB%n",
                BLOCKS, writeMillis, written, Files.size(config.drives().getFirst()) >> 20);
        assertEquals(BLOCKS * EngineHarness.BLOCK, written.mapped(), "mapped bytes before the restart");

        runChild(dir, node, id, false, written);

        // The node comes back, writes a log tail after its checkpoint and dies without another one.
        MapUsage afterTail;
        try (Engine engine = Engine.open(config)) {
            EngineVolume volume = engine.volume(id).orElseThrow();
            long stride = tailStride(BLOCKS);
            for (int run = 0; run < TAIL_RUNS; run++) {
                assertEquals(IoResult.OK, EngineHarness.await(writeTail(volume, run * stride)));
            }
            assertEquals(IoResult.OK, EngineHarness.unmap(volume, BLOCKS - TAIL_UNMAPPED, TAIL_UNMAPPED));
            assertEquals(IoResult.OK, EngineHarness.flush(volume));
            afterTail = MapUsage.of(engine, id);
            engine.crashForTest();
        }
        assertEquals((BLOCKS - TAIL_UNMAPPED) * EngineHarness.BLOCK, afterTail.mapped(), "mapped bytes after the tail");
        runChild(dir, node, id, true, afterTail);
    }

    /** Mapped and stored bytes of one map, and of the whole engine. */
    record MapUsage(long mapped, long stored, long engineMapped, long engineStored) {
        static MapUsage of(Engine engine, int id) {
            var totals = engine.totals(id);
            var stats = engine.stats();
            return new MapUsage(totals.mappedBytes(), totals.storedBytes(), stats.mappedBytes(), stats.storedBytes());
        }

        List<String> args() {
            return List.of(Long.toString(mapped), Long.toString(stored), Long.toString(engineMapped),
                    Long.toString(engineStored));
        }

        static MapUsage parse(String[] args, int from) {
            return new MapUsage(Long.parseLong(args[from]), Long.parseLong(args[from + 1]),
                    Long.parseLong(args[from + 2]), Long.parseLong(args[from + 3]));
        }

        @Override
        public String toString() {
            return String.format("%,d MiB mapped, %,d MiB stored", mapped >> 20, stored >> 20);
        }
    }

    /**
     * One engine on one drive file: 4 MiB segments, room for every block at 64 stored bytes, and no
     * checkpoint but the ones at open and close (the tail must be replayed).
     */
    static EngineConfig config(Path dir, UUID node, long blocks) {
        long driveBytes = blocks * 64 + (256L << 20);
        return new EngineConfig(List.of(dir.resolve("drive0")), driveBytes, dir.resolve("meta"), node,
                EngineConfig.DEFAULT_SEGMENT_SIZE, false, Long.MAX_VALUE, TimeUnit.HOURS.toMillis(1), 5_000, 1000.0);
    }

    /** The distance between the tail's runs in a map of {@code blocks} (the child has no system properties). */
    static long tailStride(long blocks) {
        return (blocks - TAIL_UNMAPPED) / TAIL_RUNS;
    }

    /** The tag block {@code lba} holds: 1 everywhere, 2 in the tail's runs, 0 (unmapped) at the end. */
    static long tagOf(long lba, long blocks, boolean tail) {
        if (!tail) {
            return 1;
        }
        if (lba >= blocks - TAIL_UNMAPPED) {
            return 0;
        }
        return lba / tailStride(blocks) < TAIL_RUNS && lba % tailStride(blocks) < TAIL_RUN ? 2 : 1;
    }

    /** Block contents: the tag and LBA, then zeros (LZ4 stores it in a few dozen bytes); zeros for tag 0. */
    static void fill(ByteBuf buffer, long tag, long lba, int blocks) {
        buffer.clear();
        buffer.writeZero(blocks * EngineHarness.BLOCK);
        for (int i = 0; i < blocks; i++) {
            buffer.setLongLE(i * EngineHarness.BLOCK, tag);
            buffer.setLongLE(i * EngineHarness.BLOCK + 8, lba + i);
        }
    }

    /** Writes tag 1 to every block, {@link #WRITES_IN_FLIGHT} writes of {@link #WRITE_BLOCKS} blocks at a time. */
    private static void writeAll(EngineVolume volume) throws InterruptedException {
        BlockingQueue<ByteBuf> free = new ArrayBlockingQueue<>(WRITES_IN_FLIGHT);
        for (int i = 0; i < WRITES_IN_FLIGHT; i++) {
            free.add(Unpooled.buffer(WRITE_BLOCKS * EngineHarness.BLOCK));
        }
        AtomicReference<IoResult> failed = new AtomicReference<>();
        for (long lba = 0; lba < BLOCKS && failed.get() == null; lba += WRITE_BLOCKS) {
            ByteBuf buffer = free.poll(60, TimeUnit.SECONDS);
            if (buffer == null) {
                fail("no write completed within 60 s");
            }
            int blocks = (int) Math.min(WRITE_BLOCKS, BLOCKS - lba);
            fill(buffer, 1, lba, blocks);
            volume.write(lba, blocks, buffer, false, result -> {
                if (result != IoResult.OK) {
                    failed.compareAndSet(null, result);
                }
                free.add(buffer);
            });
        }
        for (int i = 0; i < WRITES_IN_FLIGHT; i++) {
            if (free.poll(60, TimeUnit.SECONDS) == null) {
                fail("the last writes did not complete within 60 s");
            }
        }
        assertEquals(null, failed.get(), "a write failed");
    }

    private static java.util.concurrent.CompletableFuture<IoResult> writeTail(EngineVolume volume, long lba) {
        ByteBuf buffer = Unpooled.buffer(TAIL_RUN * EngineHarness.BLOCK);
        fill(buffer, 2, lba, TAIL_RUN);
        java.util.concurrent.CompletableFuture<IoResult> done = new java.util.concurrent.CompletableFuture<>();
        volume.write(lba, TAIL_RUN, buffer, false, done::complete);
        return done;
    }

    /**
     * Recovers in a child JVM with {@link #CHILD_HEAP} and waits for its verdict; the child is killed by its
     * PID if it is still alive when this returns, whatever happened.
     */
    private static void runChild(Path dir, UUID node, int id, boolean tail, MapUsage expected) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path argFile = dir.resolve("child-args.txt");
        List<String> args = new ArrayList<>(List.of("-cp", classPath, CHILD_HEAP, "-XX:+ExitOnOutOfMemoryError",
                "--enable-native-access=ALL-UNNAMED", RecoveryChild.class.getName(), dir.toString(), node.toString(),
                Long.toString(BLOCKS), Integer.toString(id), Boolean.toString(tail)));
        args.addAll(expected.args());
        StringBuilder quoted = new StringBuilder();
        for (String a : args) {
            quoted.append('"').append(a.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n");
        }
        Files.writeString(argFile, quoted.toString(), StandardCharsets.UTF_8);
        Path log = dir.resolve(tail ? "child-tail.log" : "child-clean.log");
        Process child = new ProcessBuilder(java, "@" + argFile).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        Thread killer = Thread.ofPlatform().unstarted(child::destroyForcibly);
        Runtime.getRuntime().addShutdownHook(killer);
        try {
            child.getOutputStream().close();
            boolean exited = child.waitFor(CHILD_SECONDS, TimeUnit.SECONDS);
            String output = Files.readString(log, StandardCharsets.UTF_8);
            System.out.print(output.lines().filter(l -> l.startsWith("[recovery-child]"))
                    .map(l -> l + "\n").reduce("", String::concat));
            assertTrue(exited, "the recovering child (pid " + child.pid() + ") did not finish within " + CHILD_SECONDS
                    + " s:\n" + tail(output));
            assertEquals(0, child.exitValue(), "the recovering child failed:\n" + tail(output));
        } finally {
            if (child.isAlive()) {
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
            }
            Runtime.getRuntime().removeShutdownHook(killer);
        }
    }

    private static String tail(String output) {
        List<String> lines = output.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }
}
