package io.basalt.bench;

import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Qos;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.client.ApiOptions;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.HostQueue;
import io.basalt.service.StorageNode;
import io.basalt.service.config.ConfigLoader;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code basalt bench --qos}: a whole node in this process (the API, the target, the data-plane
 * volume layer with its token buckets, the engine on a drive in memory), its volumes' QoS limits set
 * through the volume API, and the built-in host loading them over NVMe/TCP on loopback:
 * <ul>
 * <li>accuracy: for each limit (read, write and total IOPS; read and write bandwidth) at 4 KiB and
 * 128 KiB, what {@value #CONNECTIONS} connections at queue depth {@value #QUEUE_DEPTH} each achieve
 * on one limited volume together, against the limit;</li>
 * <li>isolation: a neighbour volume's 4 KiB random reads alone, then while a noisy volume limited to
 * {@value #NOISY_IOPS} IOPS runs at full load, then while the noisy volume runs unlimited; in
 * {@value #ROUNDS} rounds, each compared with its own run alone (a shared machine drifts).</li>
 * </ul>
 * Prints the section; {@code --output FILE} also puts it into FILE in place of its previous version.
 */
final class QosBench {
    static final String SECTION_TITLE = "## QoS: accuracy and isolation";
    static final int CONNECTIONS = 4;
    static final int QUEUE_DEPTH = 32;
    static final int NEIGHBOUR_CONNECTIONS = 2;
    static final long SMALL_IOPS = 1_000;
    static final long LARGE_IOPS = 250;
    static final long BYTES_PER_SEC = 16L << 20;
    static final long NOISY_IOPS = 2_000;
    static final int ROUNDS = 3;
    /** Each volume's size, all of it loaded, written through once before. */
    static final long VOLUME_BYTES = 64L << 20;
    /** How far from its limit a figure may land and still be called accurate (the 10%). */
    static final double TOLERANCE = 0.10;
    private static final long DRIVE_BYTES = 2L << 30;
    private static final String HOST_NQN = BenchOptions.DEFAULT_HOST_NQN;
    private static final int SMALL = 4096;
    private static final int LARGE = 128 * 1024;
    private static final int FILL_DEPTH = 16;
    private static final long FILL_TIMEOUT_SECONDS = 60;
    /** Connecting a controller and identifying a namespace on loopback: far longer than either takes. */
    private static final long SETUP_TIMEOUT_SECONDS = 30;

    /** What is limited and how the volume is loaded: one workload, or reads and writes on half the connections each. */
    enum Kind {
        READ_IOPS("read IOPS", false), WRITE_IOPS("write IOPS", false), TOTAL_IOPS("total IOPS", false),
        READ_BYTES("read bandwidth", true), WRITE_BYTES("write bandwidth", true);

        final String label;
        final boolean bytes;

        Kind(String label, boolean bytes) {
            this.label = label;
            this.bytes = bytes;
        }
    }

    record Case(Kind kind, int ioSize, long limit) {
        Qos qos() {
            return switch (kind) {
                case READ_IOPS -> new Qos(0, limit, 0, 0, 0, 0, 0);
                case WRITE_IOPS -> new Qos(0, 0, limit, 0, 0, 0, 0);
                case TOTAL_IOPS -> new Qos(limit, 0, 0, 0, 0, 0, 0);
                case READ_BYTES -> new Qos(0, 0, 0, 0, limit, 0, 0);
                case WRITE_BYTES -> new Qos(0, 0, 0, 0, 0, limit, 0);
            };
        }

        /** Random reads or writes; a total limit gets both at once. */
        List<Workload> workloads() {
            return switch (kind) {
                case READ_IOPS, READ_BYTES -> List.of(Workload.RANDREAD);
                case WRITE_IOPS, WRITE_BYTES -> List.of(Workload.RANDWRITE);
                case TOTAL_IOPS -> List.of(Workload.RANDREAD, Workload.RANDWRITE);
            };
        }

        String limitText() {
            return kind.bytes ? String.format(Locale.ROOT, "%,d MiB/s", limit >> 20) : String.format(Locale.ROOT, "%,d", limit);
        }
    }

    static final List<Case> CASES = List.of(
            new Case(Kind.READ_IOPS, SMALL, SMALL_IOPS),
            new Case(Kind.WRITE_IOPS, SMALL, SMALL_IOPS),
            new Case(Kind.TOTAL_IOPS, SMALL, SMALL_IOPS),
            new Case(Kind.READ_BYTES, SMALL, BYTES_PER_SEC),
            new Case(Kind.WRITE_BYTES, SMALL, BYTES_PER_SEC),
            new Case(Kind.READ_IOPS, LARGE, LARGE_IOPS),
            new Case(Kind.WRITE_IOPS, LARGE, LARGE_IOPS),
            new Case(Kind.TOTAL_IOPS, LARGE, LARGE_IOPS),
            new Case(Kind.READ_BYTES, LARGE, BYTES_PER_SEC),
            new Case(Kind.WRITE_BYTES, LARGE, BYTES_PER_SEC));

    /** One limit's run: the loads on the limited volume (one per workload), measured over the same window. */
    record Accuracy(Case c, List<BenchResult> loads) {
        /** Commands or bytes per second, as the limit counts them. */
        double achieved() {
            return loads.stream().mapToDouble(r -> c.kind().bytes ? r.iops() * r.options().ioSize() : r.iops()).sum();
        }

        double deviation() {
            return achieved() / c.limit() - 1;
        }

        /** Within the tolerance; above it is a broken limit, below it a machine too busy to reach it. */
        String verdict() {
            double d = deviation();
            return Math.abs(d) <= TOLERANCE ? "within 10%" : d > 0 ? "**over the limit**" : "**under**";
        }

        /** In a closed loop held back by a limit, every command waits about (commands in flight) / (commands per second). */
        double expectedMillis() {
            double commandsPerSecond = loads.stream().mapToDouble(BenchResult::iops).sum();
            return 1000.0 * CONNECTIONS * QUEUE_DEPTH / commandsPerSecond;
        }
    }

    /** One round: the neighbour alone, beside the noisy volume limited, and beside it unlimited. */
    record Round(BenchResult alone, BenchResult withLimited, BenchResult limitedNoisy,
                 BenchResult withUnlimited, BenchResult unlimitedNoisy) {
        double keptWithLimit() {
            return withLimited.iops() / alone.iops();
        }

        double keptWithoutLimit() {
            return withUnlimited.iops() / alone.iops();
        }

        List<BenchResult> all() {
            return List.of(alone, withLimited, limitedNoisy, withUnlimited, unlimitedNoisy);
        }
    }

    record Results(List<Accuracy> accuracy, List<Round> isolation, int seconds, int warmUpSeconds, String loadAtStart) {
        long errors() {
            return accuracy.stream().flatMap(a -> a.loads().stream()).mapToLong(BenchResult::errors).sum()
                    + isolation.stream().flatMap(r -> r.all().stream()).mapToLong(BenchResult::errors).sum();
        }
    }

    private QosBench() {
    }

    /** {@code args}: {@code --qos [--seconds N] [--warmup N] [--output FILE]}. */
    static int run(String[] args) {
        return SectionMode.run(args, "--qos", SECTION_TITLE, 5, 2, QosBench::measure, QosBench::markdown,
                r -> r.errors() > 0);
    }

    /** Starts a node on a drive in memory, runs every case and the isolation runs, and stops it. */
    static Results measure(int seconds, int warmUpSeconds) throws Exception {
        String loadAtStart = BenchReport.loadAverage();
        Path dataDir = Files.createTempDirectory("basalt-bench-qos-");
        EventLoopGroup hostGroup = EventLoops.createForHost(Runtime.getRuntime().availableProcessors());
        try (StorageNode node = startNode(dataDir)) {
            VolumeApiClient client = new VolumeApiClient(apiUri(node), adminToken(dataDir), Duration.ofSeconds(30));
            Volume limited = client.createVolume(new CreateVolumeRequest("qos-limited", VOLUME_BYTES, List.of(HOST_NQN)));
            Volume neighbour = client.createVolume(new CreateVolumeRequest("qos-neighbour", VOLUME_BYTES, List.of(HOST_NQN)));
            InetSocketAddress nvme = node.nvmeAddress();
            try (HostController limitedHost = connect(hostGroup, nvme, limited, CONNECTIONS);
                 HostController neighbourHost = connect(hostGroup, nvme, neighbour, NEIGHBOUR_CONNECTIONS)) {
                Target onLimited = Target.of(nvme, limited, limitedHost);
                Target onNeighbour = Target.of(nvme, neighbour, neighbourHost);
                fill(limitedHost.ioQueue(0), limited.nsid(), onLimited.blockSize());
                fill(neighbourHost.ioQueue(0), neighbour.nsid(), onNeighbour.blockSize());
                List<Accuracy> accuracy = new ArrayList<>();
                for (Case c : CASES) {
                    client.setQos(limited.id(), c.qos());
                    List<Benchmark.LoadGroup> loads = new ArrayList<>();
                    List<Workload> workloads = c.workloads();
                    int share = CONNECTIONS / workloads.size();
                    for (int w = 0; w < workloads.size(); w++) {
                        loads.add(onLimited.load(workloads.get(w), c.ioSize(), w * share, share, seconds, warmUpSeconds));
                    }
                    Accuracy a = new Accuracy(c, Benchmark.drive(loads));
                    System.out.println(summary(a));
                    accuracy.add(a);
                }
                Benchmark.LoadGroup neighbourLoad = onNeighbour.load(Workload.RANDREAD, SMALL, 0, NEIGHBOUR_CONNECTIONS, seconds, warmUpSeconds);
                Benchmark.LoadGroup noisyLoad = onLimited.load(Workload.RANDREAD, SMALL, 0, CONNECTIONS, seconds, warmUpSeconds);
                List<Round> isolation = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    BenchResult alone = Benchmark.drive(List.of(neighbourLoad)).getFirst();
                    client.setQos(limited.id(), new Qos(NOISY_IOPS, 0, 0, 0, 0, 0, 0));
                    List<BenchResult> withLimited = Benchmark.drive(List.of(neighbourLoad, noisyLoad));
                    client.setQos(limited.id(), Qos.UNLIMITED);
                    List<BenchResult> withUnlimited = Benchmark.drive(List.of(neighbourLoad, noisyLoad));
                    Round r = new Round(alone, withLimited.get(0), withLimited.get(1), withUnlimited.get(0),
                            withUnlimited.get(1));
                    r.all().forEach(result -> System.out.println(result.summary()));
                    isolation.add(r);
                }
                return new Results(accuracy, isolation, seconds, warmUpSeconds, loadAtStart);
            }
        } finally {
            EventLoops.shutdown(hostGroup);
            BenchEngine.delete(dataDir);
        }
    }

    /** A node on loopback with free ports and its engine on a drive of {@value #DRIVE_BYTES} bytes in memory. */
    static StorageNode startNode(Path dataDir) throws Exception {
        return StorageNode.start(ConfigLoader.load(List.of("--data-dir", dataDir.toString(),
                "--nvme.port=0", "--nvme.discovery-port=0", "--api.port=0",
                "--engine.drives=memory:" + DRIVE_BYTES), Map.of()));
    }

    static URI apiUri(StorageNode node) {
        InetSocketAddress api = node.apiAddress();
        return URI.create("http://" + api.getHostString() + ":" + api.getPort());
    }

    /** The token the node wrote into its data directory when it started: the API's and /metrics' admin. */
    static String adminToken(Path dataDir) throws IOException {
        return Files.readString(dataDir.resolve(ApiOptions.ADMIN_TOKEN_FILE)).strip();
    }

    static HostController connect(EventLoopGroup group, InetSocketAddress nvme, Volume volume, int queues)
            throws Exception {
        HostOptions options = HostOptions.defaults(HOST_NQN).withIoQueues(queues, QUEUE_DEPTH + 1);
        return HostController.connect(group, options, nvme.getHostString(), nvme.getPort(), volume.nqn())
                .get(SETUP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** A volume of the node, reached through its host controller's I/O queues. */
    record Target(InetSocketAddress nvme, Volume volume, HostController host, int blockSize) {
        static Target of(InetSocketAddress nvme, Volume volume, HostController host) throws Exception {
            return new Target(nvme, volume, host, host.identifyNamespace(volume.nsid())
                    .get(SETUP_TIMEOUT_SECONDS, TimeUnit.SECONDS).blockSize());
        }

        /** {@code workload} on {@code count} of the controller's queues from {@code first} on. */
        Benchmark.LoadGroup load(Workload workload, int ioSize, int first, int count, int seconds, int warmUpSeconds) {
            return load(workload, ioSize, QUEUE_DEPTH, first, count, seconds, warmUpSeconds);
        }

        /** The same at {@code queueDepth} I/Os in flight per queue (at most {@value #QUEUE_DEPTH}). */
        Benchmark.LoadGroup load(Workload workload, int ioSize, int queueDepth, int first, int count, int seconds,
                                 int warmUpSeconds) {
            BenchOptions options = new BenchOptions(nvme.getHostString(), nvme.getPort(), volume.nqn(), volume.nsid(),
                    HOST_NQN, false, workload, ioSize, queueDepth, count, seconds, warmUpSeconds, false, false,
                    VOLUME_BYTES, false, null, false);
            List<BenchTransport> transports = new ArrayList<>();
            for (int i = first; i < first + count; i++) {
                transports.add(new NvmeTransport(host.ioQueue(i), volume.nsid(), blockSize, ioSize, workload.read));
            }
            return new Benchmark.LoadGroup(volume.name(), options, transports, VOLUME_BYTES);
        }
    }

    /** Writes the whole volume once with random data, so reads find mapped blocks as they would in use. */
    static void fill(HostQueue queue, int nsid, int blockSize) throws Exception {
        ByteBuf data = DataKind.RANDOM.pool(0);
        Semaphore free = new Semaphore(FILL_DEPTH);
        AtomicInteger firstError = new AtomicInteger();
        int blocks = LARGE / blockSize;
        try {
            for (long lba = 0; lba < VOLUME_BYTES / blockSize; lba += blocks) {
                if (!free.tryAcquire(FILL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("no write completed for " + FILL_TIMEOUT_SECONDS + " s while filling");
                }
                queue.write(nsid, lba, blocks, data.slice(0, LARGE), false, (status, result) -> {
                    firstError.compareAndSet(0, status);
                    free.release();
                });
            }
            if (!free.tryAcquire(FILL_DEPTH, FILL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("filling the volume did not finish in " + FILL_TIMEOUT_SECONDS + " s");
            }
            if (firstError.get() != 0) {
                throw new IllegalStateException("filling the volume failed: status 0x" + Integer.toHexString(firstError.get()));
            }
        } finally {
            data.release();
        }
    }

    private static String summary(Accuracy a) {
        return String.format(Locale.ROOT, "qos    %-15s bs=%-4s limit %s: achieved %,.1f%s (%+.1f%%, %s)",
                a.c().kind().label, BenchResult.sizeLabel(a.c().ioSize()), a.c().limitText(),
                a.c().kind().bytes ? a.achieved() / (1 << 20) : a.achieved(), a.c().kind().bytes ? " MiB/s" : " IOPS",
                100 * a.deviation(), a.verdict());
    }

    /** The section for docs/benchmarks.md: how it was measured, with the command, the machine and the load. */
    static String markdown(Results r, String command) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append(SECTION_TITLE).append("\n\n");
        md.append(String.format(Locale.ROOT, """
                Written by `bin/basalt bench --qos --output docs/benchmarks.md` (which replaces this section only)
                and by `--report`: a whole node in one process (the volume API, the NVMe/TCP target, the
                data-plane volume layer with its token buckets per volume, the storage engine on a %d GiB drive
                in memory) and Basalt's own host on loopback TCP. Limits are set through the volume API (`PUT /api/v1/volumes/{id}/qos`, no burst),
                on a %d MiB volume written through once before. Each run: %d s warm-up, %d s measured.

                """, DRIVE_BYTES >> 30, VOLUME_BYTES >> 20, r.warmUpSeconds(), r.seconds()));
        md.append("- Command: `").append(command).append("`\n");
        md.append(BenchReport.machineLines());
        md.append("- Date: ").append(LocalDate.now(ZoneOffset.UTC)).append("\n");
        md.append("- Load average at the start (1, 5, 15 min): ").append(r.loadAtStart())
                .append(loaded(r.loadAtStart()) ? " — **the machine was loaded** (above 2 on its "
                        + Runtime.getRuntime().availableProcessors() + " CPUs): figures other than the limits swing with it" : "")
                .append("\n\n");

        md.append("### Accuracy\n\n");
        md.append(String.format(Locale.ROOT, """
                One limited volume loaded by %d connections (one I/O queue and TCP connection each) at queue depth
                %d each, random I/O over the whole volume; all of them share the volume's budget. For the total
                IOPS limit, half the connections read and half write at the same time. *Achieved* counts what
                completed in the measured window, in the limit's unit (commands or MiB per second). A limit
                that binds holds every command about (commands in flight) ÷ (commands per second): the
                *expected* latency beside the measured median shows the load saturated the limit.

                """, CONNECTIONS, QUEUE_DEPTH));
        md.append("| Limit | I/O size | Limit value | Achieved | Achieved ÷ limit | Verdict | p50 ms | Expected ms |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |\n");
        for (Accuracy a : r.accuracy()) {
            double p50 = a.loads().stream().mapToDouble(l -> l.micros(0.5)).max().orElse(0) / 1000;
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %.3f | %s | %.1f | %.1f |%n",
                    a.c().kind().label, BenchResult.sizeLabel(a.c().ioSize()).replace("k", " KiB"), a.c().limitText(),
                    a.c().kind().bytes ? String.format(Locale.ROOT, "%,.2f MiB/s", a.achieved() / (1 << 20))
                            : String.format(Locale.ROOT, "%,.1f", a.achieved()),
                    a.achieved() / a.c().limit(), a.verdict(), p50, a.expectedMillis()));
        }

        md.append("\n### Isolation\n\n");
        md.append(String.format(Locale.ROOT, """
                A neighbour volume of the same node, 4 KiB random reads on %d connections of their own at queue
                depth %d: alone, then while a noisy volume is read by %d connections at queue depth %d (4 KiB
                random reads) with a total limit of %,d IOPS, then while the noisy volume is unlimited; each
                pair over the same window. %d rounds one after the other, each compared with its own run alone
                seconds before (a shared machine drifts over minutes).

                """, NEIGHBOUR_CONNECTIONS, QUEUE_DEPTH, CONNECTIONS, QUEUE_DEPTH, NOISY_IOPS, ROUNDS));
        md.append("| Round | Neighbour alone, IOPS | beside the limited noisy volume | ÷ alone | noisy IOPS "
                + "| beside the unlimited noisy volume | ÷ alone | noisy IOPS | neighbour p99 µs: alone, limited, unlimited |\n");
        md.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (int n = 0; n < r.isolation().size(); n++) {
            Round round = r.isolation().get(n);
            md.append(String.format(Locale.ROOT, "| %d | %,.0f | %,.0f | %.2f | %,.0f | %,.0f | %.2f | %,.0f | %,.0f, %,.0f, %,.0f |%n",
                    n + 1, round.alone().iops(), round.withLimited().iops(), round.keptWithLimit(),
                    round.limitedNoisy().iops(), round.withUnlimited().iops(), round.keptWithoutLimit(),
                    round.unlimitedNoisy().iops(), round.alone().micros(0.99), round.withLimited().micros(0.99),
                    round.withUnlimited().micros(0.99)));
        }
        md.append(String.format(Locale.ROOT, """

                Median over the rounds: beside the limited noisy volume the neighbour kept %.0f%% of its IOPS
                alone; beside the unlimited one, %.0f%%.
                """, 100 * median(r.isolation().stream().mapToDouble(Round::keptWithLimit).toArray()),
                100 * median(r.isolation().stream().mapToDouble(Round::keptWithoutLimit).toArray())));

        List<String> errors = new ArrayList<>();
        r.accuracy().stream().flatMap(a -> a.loads().stream()).filter(l -> l.errors() > 0).forEach(l -> errors.add(l.summary()));
        r.isolation().stream().flatMap(round -> round.all().stream()).filter(l -> l.errors() > 0)
                .forEach(l -> errors.add(l.summary()));
        if (!errors.isEmpty()) {
            md.append("\nErrors:\n\n");
            errors.forEach(e -> md.append("- ").append(e).append('\n'));
        }
        return md.toString();
    }

    /** The median (the mean of the middle two for an even count). */
    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    static boolean loaded(String loadAverage) {
        try {
            return Double.parseDouble(loadAverage.split(",")[0].strip()) > 2;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
