package io.basalt.service.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.IoCompletion;
import io.basalt.nvmetcp.host.NamespaceInfo;
import io.basalt.nvmetcp.host.NvmeTransportException;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.service.guest.ServiceProcess;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.nio.NioEventLoopGroup;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Crash safety of a real Basalt node (a separate JVM, {@link ServiceProcess}) under concurrent
 * writers on two hosts (the Java NVMe/TCP host, two controllers with two I/O queues each, one
 * writer per queue and a disjoint LBA range per writer).
 *
 * <p>Each cycle: the writers write (some with FUA), deallocate and write zeroes at random, and
 * flush every few operations, recording per block what was issued, acknowledged and made durable
 * (see {@link VolumeModel}); at a random moment (seeded) the node gets {@code kill -9}. It starts
 * again on the same data directory, and the test checks:
 * <ul>
 * <li>every block reads back whole (a block of {@link BlockPattern}, or zeros), at its own LBA,
 *     with a generation that was issued to it, not older than the last durable one (nothing
 *     acknowledged before a completed Flush, or written with FUA, is lost), never one overwritten
 *     before the previous check (nothing lost comes back);
 * <li>the API lists the volume with its id, name, size, NQN, NSID, UUID and hosts;
 * <li>space accounting matches the data: the volume's {@code space.mappedBytes} and the node's
 *     {@code usedBytes} equal the blocks that read back non-zero times the block size (compression
 *     is off and the data incompressible), {@code provisionedBytes} the volume size;
 * </ul>
 * then the next cycle writes on. At the end a graceful stop (SIGTERM, the hosts still connected)
 * must keep every acknowledged write even without a Flush.
 *
 * <p>Properties: {@code basalt.crash.seed} (default: time based, printed), {@code basalt.crash.cycles}
 * (default 5), {@code basalt.crash.compression=true} (a compressed volume and compressible blocks:
 * then stored and used bytes must be equal, and less than mapped).
 */
@Tag("process")
class CrashRecoveryTest {
    private static final long MIB = 1 << 20;
    private static final long VOLUME_BYTES = 32 * MIB;
    private static final int HOSTS = 2;
    private static final int QUEUES_PER_HOST = 2;
    private static final int WRITERS = HOSTS * QUEUES_PER_HOST;
    private static final int READ_CHUNK_BLOCKS = 256;
    private static final int READS_IN_FLIGHT = 8;
    private static final long IO_TIMEOUT_SECONDS = 30;
    /**
     * A small drive and small segments, so that garbage collection runs (the writers overwrite the
     * volume many times over) and checkpoints are frequent: the kills land in them too.
     */
    private static final String[] NODE_ARGS = {"--engine.drive-size=192MiB", "--engine.segment-size=2MiB",
            "--engine.checkpoint-bytes=16MiB", "--engine.checkpoint-seconds=1"};

    private final ObjectMapper json = new ObjectMapper();

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void flushedWritesSurviveKill9AndSpaceAccountingMatches() throws Exception {
        long seed = Long.getLong("basalt.crash.seed", System.nanoTime());
        int cycles = Integer.getInteger("basalt.crash.cycles", 5);
        boolean compression = Boolean.getBoolean("basalt.crash.compression");
        System.out.println("[crash] seed " + seed + " (-Dbasalt.crash.seed=" + seed + " repeats the kill times), "
                + cycles + " cycles");
        Random random = new Random(seed);
        Path work = Path.of("target", "crash-work", "crash-" + System.currentTimeMillis());
        List<String> hostNqns = new ArrayList<>();
        for (int h = 0; h < HOSTS; h++) {
            hostNqns.add("nqn.2014-08.org.nvmexpress:uuid:" + new UUID(random.nextLong(), random.nextLong()));
        }
        NioEventLoopGroup group = new NioEventLoopGroup(2);
        ServiceProcess node = null;
        boolean passed = false;
        try {
            node = ServiceProcess.start(work, NODE_ARGS);
            JsonNode volume = createVolume(node, "crash-" + Long.toHexString(random.nextLong() >>> 16), hostNqns,
                    compression);
            String id = volume.path("id").asText();
            int nsid = volume.path("nsid").asInt();
            String nqn = volume.path("nqn").asText();
            System.out.println("[crash] volume " + id + " nsid " + nsid + " of " + nqn);

            VolumeModel model = null;
            for (int cycle = 1; cycle <= cycles; cycle++) {
                long killAfterMillis = 500 + random.nextInt(2501);
                List<HostController> hosts = connectAll(group, node, hostNqns, nqn);
                try {
                    NamespaceInfo ns = hosts.get(0).identifyNamespace(nsid).get(IO_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    assertEquals(VOLUME_BYTES, ns.sizeBytes(), "namespace size seen by the host: " + ns);
                    if (model == null) {
                        long runId = random.nextLong();
                        model = new VolumeModel(ns.blockSize(), (int) (VOLUME_BYTES / ns.blockSize()), WRITERS,
                                compression ? runId | 1 : runId & ~1L); // lowest bit: compressible blocks
                        System.out.println("[crash] block size " + ns.blockSize() + ", " + model.blocks + " blocks, "
                                + WRITERS + " writers; volatile write cache reported: "
                                + hosts.get(0).info().volatileWriteCache());
                    }
                    assertEquals(model.blockSize, ns.blockSize(), "block size changed across a restart");

                    AtomicBoolean killed = new AtomicBoolean();
                    Queue<String> errors = new ConcurrentLinkedQueue<>();
                    List<Writer> writers = startWriters(hosts, nsid, model, random, true, killed, errors);
                    List<Thread> threads = startThreads(writers, cycle);
                    try {
                        sleepUnlessAllDead(writers, killAfterMillis);
                        killed.set(true);
                        System.out.println("[crash] cycle " + cycle + ": kill -9 after " + killAfterMillis + " ms");
                        node.kill9();
                    } finally {
                        writers.forEach(Writer::stop); // they stop by themselves once the connections fail
                        joinAll(threads, errors);
                    }
                    writers.forEach(w -> System.out.println("[crash]   " + w.summary()));
                    if (!errors.isEmpty()) {
                        fail("cycle " + cycle + ": unexpected I/O failures before the kill:\n  "
                                + String.join("\n  ", errors.stream().limit(25).toList()));
                    }
                } finally {
                    closeAll(hosts);
                }

                node.start();
                System.out.println("[crash] " + recoveryLine(node));
                checkMetadata(node, volume);
                long mappedBlocks = verify(group, node, hostNqns.get(0), nqn, nsid, model, false,
                        "cycle " + cycle + " (after kill -9)");
                checkSpace(node, id, model, mappedBlocks, "cycle " + cycle);
            }

            // ---- graceful stop: no Flush, yet nothing acknowledged may be lost ----
            List<HostController> hosts = connectAll(group, node, hostNqns, nqn);
            AtomicBoolean killed = new AtomicBoolean();
            Queue<String> errors = new ConcurrentLinkedQueue<>();
            try {
                List<Writer> writers = startWriters(hosts, nsid, model, random, false, killed, errors);
                List<Thread> threads = startThreads(writers, 0);
                try {
                    sleepUnlessAllDead(writers, 1000);
                } finally {
                    writers.forEach(Writer::stop);
                    joinAll(threads, errors);
                }
                writers.forEach(w -> System.out.println("[crash]   " + w.summary()));
                if (!errors.isEmpty()) {
                    fail("graceful phase: unexpected I/O failures:\n  " + String.join("\n  ", errors));
                }
                // the hosts stay connected, as when an operator restarts the service under them
                System.out.println("[crash] graceful stop (SIGTERM) without a Flush, hosts connected");
                node.stop();
            } finally {
                closeAll(hosts);
            }
            node.start();
            System.out.println("[crash] " + recoveryLine(node));
            checkMetadata(node, volume);
            long mappedBlocks = verify(group, node, hostNqns.get(0), nqn, nsid, model, true, "after a graceful stop");
            checkSpace(node, id, model, mappedBlocks, "after a graceful stop");
            passed = true;
        } finally {
            if (node != null) {
                if (!passed) {
                    System.out.println("======== service log (tail) " + node.logFile().toAbsolutePath() + " ========");
                    System.out.println(node.logTail(150));
                }
                node.close();
            }
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
            if (passed) {
                ServiceProcess.deleteTree(work.resolve("data"));
            }
        }
    }

    /** The engine's report of its last recovery, from the node's log. */
    private static String recoveryLine(ServiceProcess node) {
        String found = "(no recovery line in the log)";
        for (String line : node.logTail(400).split("\n")) {
            int at = line.indexOf("storage engine recovered");
            if (at >= 0) {
                found = line.substring(at);
            }
        }
        return found;
    }

    // ---- writers ----------------------------------------------------------------------------

    private static List<Writer> startWriters(List<HostController> hosts, int nsid, VolumeModel model, Random random,
                                             boolean flushes, AtomicBoolean killed, Queue<String> errors) {
        List<Writer> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            HostController host = hosts.get(w % HOSTS);
            writers.add(new Writer(w, host.ioQueue(w / HOSTS), nsid, model, random.nextLong(), flushes, killed, errors));
        }
        return writers;
    }

    private static List<Thread> startThreads(List<Writer> writers, int cycle) {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < writers.size(); i++) {
            threads.add(Thread.ofPlatform().daemon().name("crash-writer-" + cycle + "-" + i).start(writers.get(i)));
        }
        return threads;
    }

    /** Sleeps for {@code millis}, or less if every writer lost its connection (the node died by itself). */
    private static void sleepUnlessAllDead(List<Writer> writers, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline && !writers.stream().allMatch(Writer::dead)) {
            Thread.sleep(Math.min(20, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))));
        }
    }

    private static void joinAll(List<Thread> threads, Queue<String> errors) throws InterruptedException {
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
            if (t.isAlive()) {
                errors.add(t.getName() + " did not finish within 60 s");
                t.interrupt();
            }
        }
    }

    // ---- hosts ------------------------------------------------------------------------------

    private static List<HostController> connectAll(NioEventLoopGroup group, ServiceProcess node, List<String> hostNqns,
                                                   String nqn) throws Exception {
        List<HostController> hosts = new ArrayList<>();
        try {
            for (String hostNqn : hostNqns) {
                hosts.add(connect(group, node, hostNqn, nqn, QUEUES_PER_HOST));
            }
        } catch (Exception | Error e) {
            closeAll(hosts);
            throw e;
        }
        return hosts;
    }

    /** Connects, retrying a few times (bounded) in case the NVMe listener comes up just after the API. */
    private static HostController connect(NioEventLoopGroup group, ServiceProcess node, String hostNqn, String nqn,
                                          int queues) throws Exception {
        HostOptions options = HostOptions.defaults(hostNqn).withIoQueues(queues, 32);
        Exception last = null;
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                HostController c = HostController.connect(group, options, "127.0.0.1", node.nvmePort(), nqn)
                        .get(IO_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                if (c.ioQueueCount() != queues) {
                    c.close();
                    throw new AssertionError("the node granted " + c.ioQueueCount() + " I/O queues, not " + queues);
                }
                return c;
            } catch (java.util.concurrent.ExecutionException e) {
                last = e;
                Thread.sleep(300);
            }
        }
        throw new IllegalStateException("cannot connect " + hostNqn + " to " + nqn + " at port " + node.nvmePort(), last);
    }

    private static void closeAll(List<HostController> hosts) {
        for (HostController h : hosts) {
            h.close();
        }
    }

    // ---- verification -----------------------------------------------------------------------

    /**
     * Reads the whole volume through a fresh controller and checks every block against the model;
     * then makes what was read the baseline. Returns how many blocks hold data.
     */
    private static long verify(NioEventLoopGroup group, ServiceProcess node, String hostNqn, String nqn, int nsid,
                               VolumeModel model, boolean exact, String when) throws Exception {
        int bs = model.blockSize;
        byte[] image = new byte[model.blocks * bs];
        HostController host = connect(group, node, hostNqn, nqn, 1);
        try {
            readAll(host, nsid, model.blocks, bs, image, when);
        } finally {
            host.close();
        }
        VolumeModel.Problems problems = new VolumeModel.Problems();
        byte[] scratch = new byte[bs];
        long mapped = 0;
        Map<String, Long> kinds = new LinkedHashMap<>();
        // The writers' threads have ended after taking back every permit their completions released,
        // so everything the completions recorded in the model is visible here.
        for (int lba = 0; lba < model.blocks; lba++) {
            BlockPattern.Content c = BlockPattern.decode(image, lba * bs, bs, model.runId, scratch);
            String problem = exact ? model.checkExact(lba, c) : model.check(lba, c);
            if (problem != null) {
                problems.add(problem);
            }
            if (!(c instanceof BlockPattern.Zero)) {
                mapped++;
            }
            kinds.merge(kind(model, lba, c), 1L, Long::sum);
            model.rebase(lba, c);
        }
        System.out.println("[crash] " + when + ": " + mapped + " blocks hold data; " + kinds);
        if (!problems.isEmpty()) {
            fail(when + ": the volume does not hold what was written: " + problems);
        }
        return mapped;
    }

    /** For the log: which of the model's generations a block holds. */
    private static String kind(VolumeModel model, int lba, BlockPattern.Content c) {
        if (c instanceof BlockPattern.Zero) {
            return "zeros";
        }
        if (!(c instanceof BlockPattern.Valid v)) {
            return "bad";
        }
        long g = v.generation();
        return g == model.issued[lba] ? "last issued" : g == model.acked[lba] ? "last acked"
                : g == model.durable[lba] ? "last durable" : g == model.base[lba] ? "previous base" : "other";
    }

    private static void readAll(HostController host, int nsid, int blocks, int bs, byte[] image, String when)
            throws Exception {
        Semaphore inFlight = new Semaphore(READS_IN_FLIGHT);
        AtomicReference<String> failure = new AtomicReference<>();
        for (int lba = 0; lba < blocks && failure.get() == null; lba += READ_CHUNK_BLOCKS) {
            if (!inFlight.tryAcquire(IO_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError(when + ": reads did not complete within " + IO_TIMEOUT_SECONDS + " s");
            }
            int n = Math.min(READ_CHUNK_BLOCKS, blocks - lba);
            int at = lba;
            ByteBuf dst = Unpooled.buffer(n * bs);
            host.read(nsid, at, n, dst, new IoCompletion() {
                @Override
                public void complete(int status, long result) {
                    if (status == Status.SUCCESS) {
                        dst.getBytes(0, image, at * bs, n * bs);
                    } else {
                        failure.compareAndSet(null, "read of " + n + " blocks at lba " + at + " completed with "
                                + Status.describe(status));
                    }
                    dst.release();
                    inFlight.release();
                }

                @Override
                public void failed(NvmeTransportException cause) {
                    failure.compareAndSet(null, "read at lba " + at + " failed: " + cause.getMessage());
                    dst.release();
                    inFlight.release();
                }
            });
        }
        if (!inFlight.tryAcquire(READS_IN_FLIGHT, IO_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError(when + ": reads did not complete within " + IO_TIMEOUT_SECONDS + " s");
        }
        if (failure.get() != null) {
            fail(when + ": " + failure.get());
        }
    }

    // ---- API --------------------------------------------------------------------------------

    private JsonNode createVolume(ServiceProcess node, String name, List<String> hosts, boolean compression)
            throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("sizeBytes", VOLUME_BYTES);
        body.put("hosts", hosts);
        body.put("compression", compression);
        HttpResponse<String> r = node.sendJson("POST", "/api/v1/volumes", json.writeValueAsString(body));
        assertEquals(201, r.statusCode(), "POST /api/v1/volumes " + body + " -> " + r.statusCode() + " " + r.body());
        JsonNode v = json.readTree(r.body());
        assertTrue(v.path("nsid").asInt() > 0 && !v.path("nqn").asText().isEmpty() && !v.path("id").asText().isEmpty(),
                "volume without id, nqn or nsid: " + r.body());
        return v;
    }

    /** The node still lists the volume, unchanged, and only it. */
    private void checkMetadata(ServiceProcess node, JsonNode created) throws Exception {
        HttpResponse<String> r = node.get("/api/v1/volumes");
        assertEquals(200, r.statusCode(), "GET /api/v1/volumes -> " + r.statusCode() + " " + r.body());
        JsonNode list = json.readTree(r.body()).path("volumes");
        assertEquals(1, list.size(), "the node lists " + list.size() + " volumes after the restart: " + r.body());
        JsonNode v = list.get(0);
        for (String field : List.of("id", "name", "project", "sizeBytes", "nqn", "nsid", "uuid", "nguid", "hosts",
                "compression")) {
            assertEquals(created.path(field), v.path(field), "volume field " + field + " changed across the restart: "
                    + created + " -> " + v);
        }
    }

    /** Space accounting against the blocks that read back non-zero. */
    private void checkSpace(ServiceProcess node, String id, VolumeModel model, long mappedBlocks, String when)
            throws Exception {
        long expected = mappedBlocks * model.blockSize;
        HttpResponse<String> vr = node.get("/api/v1/volumes/" + id);
        assertEquals(200, vr.statusCode(), "GET /api/v1/volumes/" + id + " -> " + vr.statusCode() + " " + vr.body());
        JsonNode space = json.readTree(vr.body()).path("space");
        HttpResponse<String> sr = node.get("/api/v1/stats");
        assertEquals(200, sr.statusCode(), "GET /api/v1/stats -> " + sr.statusCode() + " " + sr.body());
        JsonNode stats = json.readTree(sr.body());
        System.out.println("[crash] " + when + ": expected " + expected + " bytes mapped; volume space " + space
                + "; node stats " + stats);
        List<String> problems = new ArrayList<>();
        expect(problems, "volume space.mappedBytes", expected, space.path("mappedBytes"));
        boolean compressed = (model.runId & 1) != 0;
        long stored = space.path("storedBytes").asLong();
        if (compressed) {
            if (!(stored > 0 ? stored < expected : expected == 0)) {
                problems.add("volume space.storedBytes is " + stored + ", expected less than the " + expected
                        + " mapped bytes (compressed volume, compressible data)");
            }
        } else {
            expect(problems, "volume space.storedBytes (compression off, incompressible data)", expected,
                    space.path("storedBytes"));
        }
        expect(problems, "volume space.exclusiveBytes (no snapshots or clones)", stored, space.path("exclusiveBytes"));
        expect(problems, "node usedBytes (the volume's storedBytes)", stored, stats.path("usedBytes"));
        expect(problems, "volume space.sharedBytes (no snapshots or clones)", 0, space.path("sharedBytes"));
        expect(problems, "node provisionedBytes", VOLUME_BYTES, stats.path("provisionedBytes"));
        expect(problems, "node volumes", 1, stats.path("volumes"));
        long total = stats.path("totalBytes").asLong();
        if (stats.path("freeBytes").isNumber() && stats.path("usedBytes").isNumber()) {
            expect(problems, "node freeBytes (totalBytes - usedBytes)", total - stats.path("usedBytes").asLong(),
                    stats.path("freeBytes"));
        }
        if (!problems.isEmpty()) {
            fail(when + ": space accounting does not match the data (" + mappedBlocks + " blocks of " + model.blockSize
                    + " bytes read back non-zero):\n  " + String.join("\n  ", problems));
        }
    }

    private static void expect(List<String> problems, String what, long expected, JsonNode actual) {
        if (!actual.isNumber()) {
            problems.add(what + ": missing (expected " + expected + ")");
        } else if (actual.asLong() != expected) {
            problems.add(what + " is " + actual.asLong() + ", expected " + expected + " (difference "
                    + (actual.asLong() - expected) + ")");
        }
    }

}
