package io.basalt.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.cluster.etcd.ClusterKeys;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * {@code bench --failover}: how long a host's writes pause when a replicated volume's primary node is
 * killed. Debian's etcd on loopback and three nodes, each a process of its own in its own failure
 * domain; one 3-copy volume; {@link PathFollowingWriter} writes 4 KiB at queue depth 1 to it. Each kill:
 * {@code kill -9} of the primary's process by PID, the writer finds the volume's path again through the
 * API, the pause is measured from the last write acknowledged before the kill to the first after it;
 * then the killed node is started again and the bench waits until its copy is back in sync (in the
 * volume's etcd record) before the next kill. A watch on the cluster's keys in etcd tells when the old
 * primary's lease expired and when the promotion committed. Everything started is stopped by its PID;
 * every wait is bounded.
 */
final class FailoverBench {
    static final String SECTION_TITLE = "## Failover: the I/O pause when a primary is killed";
    /** The smallest lease TTL a node accepts ({@code cluster.lease-ttl-seconds}), and its default. */
    static final int SMALLEST_LEASE_TTL = 2;
    static final int DEFAULT_LEASE_TTL = 4;
    private static final int DEFAULT_KILLS = 5;
    private static final int NODES = 3;
    private static final String CLUSTER = "failover-bench";
    private static final long VOLUME_BYTES = 64L << 20;
    private static final String DRIVE_SIZE = "1GiB";
    private static final long WRITES_BEFORE_KILL_MILLIS = 2_000;
    /** Beyond the lease TTL: the watch, the promotion's turn and transaction, the new primary's start. */
    private static final long FAILOVER_TIMEOUT_SECONDS = 120;
    /** The killed node's start, its join once its old lease is gone, and the whole copy of the volume. */
    private static final long RESYNC_TIMEOUT_SECONDS = 300;
    private static final long SERVED_TIMEOUT_SECONDS = 60;
    /** A create waits up to 10 s for every copy's report. */
    private static final Duration API_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration ETCD_CALL_TIMEOUT = Duration.ofSeconds(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One kill; every time is in milliseconds from the last write acknowledged before it. The parts, as
     * the bench's etcd watch saw them: the old primary's {@code members/} key gone (its lease expired),
     * the volume's record naming a new primary (the promotion committed).
     */
    record Kill(int leaseTtl, int round, double killedMs, double leaseExpiredMs, double promotedMs, double connectedMs,
                double pauseMs, String pathBefore, String pathAfter, double resyncSeconds) {
    }

    record Results(List<Kill> kills, List<Integer> leaseTtls, String loadAtStart, String loadAtEnd) {
    }

    private FailoverBench() {
    }

    /** {@code --failover [--kills N] [--lease-ttl SECONDS]... [--output FILE]}. */
    static int run(String[] args) {
        int kills = DEFAULT_KILLS;
        List<Integer> ttls = new ArrayList<>();
        Path output = null;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--failover" -> { }
                    case "--kills" -> kills = BenchOptions.integer(BenchOptions.value(args, ++i, "--kills"), "--kills");
                    case "--lease-ttl" -> ttls.add(BenchOptions.integer(BenchOptions.value(args, ++i, "--lease-ttl"),
                            "--lease-ttl"));
                    case "--output" -> output = Path.of(BenchOptions.value(args, ++i, "--output"));
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + " (with --failover)");
                }
            }
            if (kills < 1) {
                throw new IllegalArgumentException("--kills must be positive");
            }
            if (ttls.isEmpty()) {
                ttls = List.of(DEFAULT_LEASE_TTL, SMALLEST_LEASE_TTL);
            }
            for (int ttl : ttls) {
                if (ttl < SMALLEST_LEASE_TTL || ttl > 3600) {
                    throw new IllegalArgumentException("--lease-ttl must be from " + SMALLEST_LEASE_TTL + " to 3600");
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("basalt bench: " + e.getMessage());
            BenchCommand.usage(System.err);
            return BenchCommand.EXIT_USAGE;
        }
        try {
            String loadAtStart = BenchReport.loadAverage();
            List<Kill> results = new ArrayList<>();
            for (int ttl : ttls) {
                results.addAll(measure(ttl, kills));
            }
            Results r = new Results(results, ttls, loadAtStart, BenchReport.loadAverage());
            String text = markdown(r, "bin/basalt bench " + String.join(" ", args));
            SectionMode.printSection(text, output, SECTION_TITLE);
            return 0;
        } catch (Exception e) {
            System.err.println("basalt bench: " + BenchCommand.describe(e));
            return BenchCommand.EXIT_FAILED;
        }
    }

    /** A fresh cluster with lease TTL {@code ttl}; {@code kills} kills of the volume's primary. */
    private static List<Kill> measure(int ttl, int kills) throws Exception {
        Path dir = Files.createTempDirectory("basalt-failover-");
        String token = HexFormat.of().formatHex(randomBytes());
        List<Kill> results = new ArrayList<>();
        List<ClusterNode> nodes = new ArrayList<>();
        try (LocalEtcd etcd = LocalEtcd.start(Files.createDirectories(dir.resolve("etcd")));
             Client client = Client.builder().endpoints(etcd.clientUrl()).build()) {
            ClusterKeys keys = new ClusterKeys(CLUSTER);
            for (int i = 0; i < NODES; i++) {
                nodes.add(new ClusterNode(i, dir, etcd, token, ttl));
            }
            for (ClusterNode node : nodes) {
                node.start();
            }
            VolumeApiClient api = nodes.getFirst().api(token, API_TIMEOUT);
            Volume volume = api.createVolume(new CreateVolumeRequest("failover", VOLUME_BYTES,
                    List.of(BenchOptions.DEFAULT_HOST_NQN), null, NODES, null, null));
            await("the volume served by its primary", SERVED_TIMEOUT_SECONDS, () -> served(api, volume.id()));
            try (ClusterEvents events = new ClusterEvents(client, keys);
                 PathFollowingWriter writer = PathFollowingWriter.start(volume.id(), nodes, token)) {
                for (int round = 1; round <= kills; round++) {
                    results.add(killPrimary(ttl, round, client, keys, volume.id(), nodes, events, writer));
                }
            }
            return results;
        } finally {
            for (ClusterNode node : nodes) {
                node.stop();
            }
            BenchEngine.delete(dir);
        }
    }

    private static Kill killPrimary(int ttl, int round, Client client, ClusterKeys keys, String volumeId,
                                    List<ClusterNode> nodes, ClusterEvents events, PathFollowingWriter writer)
            throws Exception {
        long acks = writer.acknowledged();
        Thread.sleep(WRITES_BEFORE_KILL_MILLIS);
        if (writer.acknowledged() == acks) {
            throw new IllegalStateException("no write was acknowledged in " + WRITES_BEFORE_KILL_MILLIS
                    + " ms before the kill: " + writer.lastError());
        }
        String primaryId = primaryOf(record(client, keys.volume(volumeId)));
        ClusterNode primary = nodeOf(client, keys, primaryId, nodes);
        events.clear();
        long killed = System.nanoTime();
        primary.kill();
        PathFollowingWriter.Outage outage = writer.awaitOutageEndingAfter(killed,
                TimeUnit.SECONDS.toNanos(ttl + FAILOVER_TIMEOUT_SECONDS));
        long leaseExpired = events.firstAfter(killed, WatchEvent.EventType.DELETE, keys.member(primaryId), kv -> true);
        long promoted = events.firstAfter(killed, WatchEvent.EventType.PUT, keys.volume(volumeId),
                kv -> !primaryId.equals(primaryOf(json(kv))));
        long last = outage.lastAcknowledged();
        System.err.printf(Locale.ROOT, "lease TTL %d s, kill %d: pause %.0f ms (%s -> %s)%n", ttl, round,
                millis(last, outage.firstAcknowledged()), outage.pathBefore(), outage.pathAfter());

        long restarted = System.nanoTime();
        primary.start();
        await("the restarted node's copy back in sync", RESYNC_TIMEOUT_SECONDS,
                () -> inSync(client, keys, volumeId, primaryId));
        double resync = (System.nanoTime() - restarted) / 1e9;
        System.err.printf(Locale.ROOT, "lease TTL %d s, kill %d: restarted node in sync %.1f s after its start%n",
                ttl, round, resync);
        return new Kill(ttl, round, millis(last, killed), leaseExpired < 0 ? Double.NaN : millis(last, leaseExpired),
                promoted < 0 ? Double.NaN : millis(last, promoted), millis(last, outage.connected()),
                millis(last, outage.firstAcknowledged()),
                outage.pathBefore(), outage.pathAfter(), resync);
    }

    private static double millis(long from, long to) {
        return (to - from) / 1e6;
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[32];
        ThreadLocalRandom.current().nextBytes(bytes);
        return bytes;
    }

    private static boolean served(VolumeApiClient api, String volumeId) {
        try {
            Volume v = api.volume(volumeId);
            return v.nqn() != null && v.nsid() > 0 && !v.portals().isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    /** The node is live again and every copy of the volume is in its in-sync set. */
    private static boolean inSync(Client client, ClusterKeys keys, String volumeId, String nodeId) {
        try {
            if (client.getKVClient().get(keys.member(nodeId)).get(ETCD_CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
                    .getKvs().isEmpty()) {
                return false;
            }
            JsonNode record = record(client, keys.volume(volumeId));
            JsonNode inSync = record.path("inSync");
            if (inSync.isMissingNode() || inSync.isNull()) {
                return true;
            }
            for (JsonNode id : record.path("nodeIds")) {
                if (!contains(inSync, id.asText())) {
                    return false;
                }
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean contains(JsonNode array, String text) {
        for (JsonNode n : array) {
            if (n.asText().equals(text)) {
                return true;
            }
        }
        return false;
    }

    /** The node serving a volume: its record's {@code primary}, or the first of its {@code nodeIds}. */
    private static String primaryOf(JsonNode record) {
        JsonNode primary = record.path("primary");
        return primary.isTextual() ? primary.asText() : record.path("nodeIds").path(0).asText();
    }

    private static JsonNode record(Client client, ByteSequence key) throws Exception {
        List<KeyValue> kvs = client.getKVClient().get(key).get(ETCD_CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS).getKvs();
        if (kvs.isEmpty()) {
            throw new IllegalStateException("no " + key.toString(StandardCharsets.UTF_8) + " in etcd");
        }
        return json(kvs.getFirst());
    }

    private static JsonNode json(KeyValue kv) {
        try {
            return JSON.readTree(kv.getValue().getBytes());
        } catch (IOException e) {
            return JSON.missingNode();
        }
    }

    /** The process of node {@code nodeId}: the one listening at the NVMe/TCP port its {@code nodes/} key names. */
    private static ClusterNode nodeOf(Client client, ClusterKeys keys, String nodeId, List<ClusterNode> nodes)
            throws Exception {
        JsonNode description = record(client, keys.node(nodeId));
        for (JsonNode portal : description.path("portals")) {
            for (ClusterNode node : nodes) {
                if (node.nvmePort == portal.path("port").asInt()) {
                    return node;
                }
            }
        }
        throw new IllegalStateException("no node of the bench has the portals of node " + nodeId + ": " + description);
    }

    private static void await(String what, long timeoutSeconds, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not within " + timeoutSeconds + " s: " + what);
            }
            Thread.sleep(100);
        }
    }

    /** One node of the bench's cluster: its ports and data directory stay the same across restarts. */
    static final class ClusterNode {
        private final List<String> arguments;
        final int nvmePort;
        private final int apiPort;
        private NodeProcess process;

        ClusterNode(int index, Path dir, LocalEtcd etcd, String token, int leaseTtl) throws IOException {
            this.nvmePort = LocalEtcd.freePort();
            this.apiPort = LocalEtcd.freePort();
            this.arguments = List.of("--data-dir", Files.createDirectories(dir.resolve("node-" + index)).toString(),
                    "--nvme.bind=127.0.0.1", "--nvme.port=" + nvmePort,
                    "--nvme.discovery-port=" + LocalEtcd.freePort(), "--api.bind=127.0.0.1", "--api.port=" + apiPort,
                    "--engine.drive-size=" + DRIVE_SIZE, "--api.admin-token=" + token,
                    "--cluster.etcd-endpoints=" + etcd.clientUrl(), "--cluster.name=" + CLUSTER,
                    "--cluster.failure-domain=domain-" + index, "--cluster.lease-ttl-seconds=" + leaseTtl);
        }

        void start() throws Exception {
            process = NodeProcess.start(List.of("-Xmx1g"), arguments);
        }

        VolumeApiClient api(String token, Duration timeout) {
            return new VolumeApiClient(URI.create("http://127.0.0.1:" + apiPort), token, timeout);
        }

        void kill() throws InterruptedException {
            System.err.println("kill -9 " + process.pid() + " (the node with NVMe/TCP port " + nvmePort + ")");
            process.kill();
        }

        void stop() throws InterruptedException {
            if (process != null) {
                process.close();
            }
        }
    }

    /** Every change under the cluster's prefix, with the time this process heard of it. */
    private static final class ClusterEvents implements AutoCloseable {
        private record Event(long nanos, WatchEvent.EventType type, ByteSequence key, KeyValue kv) {
        }

        private final List<Event> events = new ArrayList<>();
        private final Watch.Watcher watcher;

        ClusterEvents(Client client, ClusterKeys keys) {
            watcher = client.getWatchClient().watch(keys.prefix(), WatchOption.builder().isPrefix(true).build(),
                    Watch.listener(response -> {
                        long now = System.nanoTime();
                        synchronized (events) {
                            for (WatchEvent e : response.getEvents()) {
                                events.add(new Event(now, e.getEventType(), e.getKeyValue().getKey(), e.getKeyValue()));
                            }
                        }
                    }));
        }

        void clear() {
            synchronized (events) {
                events.clear();
            }
        }

        /** When the first such change after {@code nanos} was heard of, or -1. */
        long firstAfter(long nanos, WatchEvent.EventType type, ByteSequence key, Predicate<KeyValue> matching) {
            synchronized (events) {
                for (Event e : events) {
                    if (e.nanos() >= nanos && e.type() == type && e.key().equals(key) && matching.test(e.kv())) {
                        return e.nanos();
                    }
                }
            }
            return -1;
        }

        @Override
        public void close() {
            watcher.close();
        }
    }

    static String markdown(Results r, String command) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append(SECTION_TITLE).append("\n\n");
        md.append("""
                Written by `bin/basalt bench --failover --output docs/benchmarks.md` (which replaces this section
                only). Debian's etcd on loopback and three nodes, each a process of its own (as `bin/basalt serve`
                starts one, engine on a 1 GiB drive file) in a failure domain of its own; one 3-copy 64 MiB volume.
                The bench's host writes 4 KiB at queue depth 1 to the volume's primary; the primary's process is
                killed with `kill -9`; the host then asks the surviving nodes' API for the volume's portals and NQN
                and tries each portal until a write succeeds (with ANA multipath, the same NQN on every copy, the
                same loop finds the optimized path). *Pause*: from the last write acknowledged before the kill to
                the first one after it. Its parts, each from the same last write: `kill -9` sent (below zero when a
                write in flight was acknowledged as the signal went out); as a watch on etcd saw them, the old
                primary's `members/` key gone (its lease expired) and the volume's record naming a new primary (the
                promotion committed); the host's connection to the new primary's portal made (the new primary
                serving the volume and the API naming it). After each kill the killed node is started again and
                the next kill waits until its copy is back in the volume's in-sync set (*back in sync*: from its
                start). A lease expires one TTL after the last keep-alive that reached etcd, and keep-alives go
                every third of the TTL, so the lease of a node killed at a random moment expires two thirds of a
                TTL to one TTL after the kill, plus etcd's own delay in revoking it
                ([cluster.md](cluster.md#failover-and-fencing)). Issue 11 aims at a pause of at most 5 s (2 s
                hoped for): the default TTL of 4 s is chosen for it (10 s before 2 December 2026, which paused
                about 9 s); the smallest, 2 s, shows what a cluster whose etcd answers fast can have.

                """);
        md.append("- Command: `").append(command).append("`\n").append(BenchReport.machineLines())
                .append("- Date: ").append(LocalDate.now(ZoneOffset.UTC)).append("\n")
                .append("- Load average (1, 5, 15 min): at the start ").append(r.loadAtStart()).append(", at the end ")
                .append(r.loadAtEnd()).append(QosBench.loaded(r.loadAtStart()) || QosBench.loaded(r.loadAtEnd())
                        ? " — **the machine was loaded** by other work (above 2 on its "
                        + Runtime.getRuntime().availableProcessors() + " CPUs): figures swing with it" : "")
                .append("\n\n");
        md.append("| Lease TTL | Kills | Median pause | Worst pause |\n| ---: | ---: | ---: | ---: |\n");
        for (int ttl : r.leaseTtls()) {
            double[] pauses = r.kills().stream().filter(k -> k.leaseTtl() == ttl).mapToDouble(Kill::pauseMs)
                    .sorted().toArray();
            md.append(String.format(Locale.ROOT, "| %d s | %d | %s | %s |%n", ttl, pauses.length,
                    seconds(median(pauses)), seconds(pauses[pauses.length - 1])));
        }
        md.append("""

                | Lease TTL | Kill | `kill -9` sent | Lease expired | Promotion committed | Host connected | First write (pause) | Path before → after | Back in sync |
                | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |
                """);
        for (Kill k : r.kills()) {
            md.append(String.format(Locale.ROOT, "| %d s | %d | %s | %s | %s | %s | %s | %s → %s | %.1f s |%n",
                    k.leaseTtl(), k.round(), seconds(k.killedMs()), seconds(k.leaseExpiredMs()), seconds(k.promotedMs()),
                    seconds(k.connectedMs()), seconds(k.pauseMs()), k.pathBefore(), k.pathAfter(), k.resyncSeconds()));
        }
        md.append("\n");
        return md.toString();
    }

    private static String seconds(double millis) {
        return Double.isNaN(millis) ? "not seen" : String.format(Locale.ROOT, "%.2f s", millis / 1000);
    }

    /** The median of sorted values (the mean of the middle two for an even count). */
    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
