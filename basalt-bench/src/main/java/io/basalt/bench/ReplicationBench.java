package io.basalt.bench;

import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.nvmet.NvmeTarget;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.basalt.nvmetcp.nvmet.TargetPort;
import io.basalt.service.dataplane.VolumeDevice;
import io.basalt.service.engine.EngineVolume;
import io.basalt.service.replication.InSyncSet;
import io.basalt.service.replication.RemoteReplica;
import io.basalt.service.replication.ReplicaSubsystem;
import io.basalt.service.replication.ReplicatedStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.nio.NioEventLoopGroup;

import java.io.IOException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench --replication}: 4 KiB random writes through the primary's {@link ReplicatedStore} (below
 * the data-plane volume layer, no host network in front) with 1, 2 and 3 copies, at queue depth 1 and
 * 32. Three engines in this process on sparse drive files; the secondaries serve their copies over real
 * NVMe/TCP targets on loopback, reached with Basalt's host client, as in a cluster. There is no etcd: a
 * secondary that fails ends the run instead of leaving the in-sync set.
 */
final class ReplicationBench {
    static final String SECTION_TITLE = "## Replication: 1, 2 and 3 copies";
    private static final long DRIVE_BYTES = 1L << 30;
    private static final long VOLUME_BYTES = 256L << 20;
    private static final int BLOCK = 4096;
    private static final int[] DEPTHS = {1, 32};
    private static final String PRIMARY_HOST = "nqn.2014-08.org.nvmexpress:uuid:" + UUID.randomUUID();
    private static final String REPLICA_NQN = "nqn.2024-01.io.basalt:replica:bench";

    record Row(int copies, int depth, DeviceLoad.Result load) {
        double iops() {
            return load.writes() / load.seconds();
        }

        /** Little's law: commands in flight over commands per second. */
        double meanMicros() {
            return depth / iops() * 1e6;
        }
    }

    record Results(List<Row> rows, int seconds, int warmUpSeconds, String loadAtStart) {
        boolean failed() {
            return rows.stream().anyMatch(r -> r.load().errors() > 0);
        }
    }

    /** The benchmark has no etcd: a change of the in-sync set fails, which fails the writes concerned. */
    private static final InSyncSet NO_ETCD = new InSyncSet() {
        @Override
        public CompletableFuture<Long> remove(String nodeId) {
            return CompletableFuture.failedFuture(new IllegalStateException("the copy on " + nodeId + " failed"));
        }

        @Override
        public CompletableFuture<Long> rejoin(String nodeId) {
            return remove(nodeId);
        }
    };

    private ReplicationBench() {
    }

    static int run(String[] args) {
        return SectionMode.run(args, "--replication", SECTION_TITLE, 5, 2, ReplicationBench::measure,
                ReplicationBench::markdown, Results::failed);
    }

    private static Results measure(int seconds, int warmUp) throws Exception {
        String load = BenchReport.loadAverage();
        NioEventLoopGroup group = new NioEventLoopGroup(2);
        ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor();
        List<BenchEngine> engines = new ArrayList<>();
        List<NvmeTarget> targets = new ArrayList<>();
        ByteBuf data = Unpooled.directBuffer(1024 * BLOCK);
        try {
            byte[] random = new byte[1024 * BLOCK];
            ThreadLocalRandom.current().nextBytes(random);
            data.writeBytes(random);
            List<EngineVolume> copies = new ArrayList<>();
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                BenchEngine engine = BenchEngine.open(null, DRIVE_BYTES);
                engines.add(engine);
                EngineVolume volume = engine.createVolume(BLOCK, VOLUME_BYTES, false);
                copies.add(volume);
                if (i > 0) {
                    NvmeTarget target = new NvmeTarget(TargetOptions.defaults("bench-replica-" + i), group);
                    targets.add(target);
                    target.addSubsystem(ReplicaSubsystem.of(REPLICA_NQN, "bench-replica-" + i,
                            new VolumeDevice(volume, false), 1, Set.of(PRIMARY_HOST), UUID.randomUUID(), new byte[16])
                            .subsystem());
                    ports.add(target.listen(new TargetPort("127.0.0.1", 0, "127.0.0.1", false))
                            .get(10, TimeUnit.SECONDS).getPort());
                }
            }
            List<Row> rows = new ArrayList<>();
            for (int n = 1; n <= 3; n++) {
                List<RemoteReplica> secondaries = new ArrayList<>();
                for (int i = 0; i < n - 1; i++) {
                    secondaries.add(connect("node-" + (i + 1), group, ports.get(i)));
                }
                try (ReplicatedStore store = new ReplicatedStore("bench", copies.getFirst(), secondaries, 1, NO_ETCD,
                        64, 10, TimeUnit.SECONDS, control)) {
                    VolumeDevice device = new VolumeDevice(store, false);
                    if (n == 1) {
                        // Written through once, so that every run overwrites mapped blocks.
                        DeviceLoad.write(device, data, 128 * 1024, 16, Skew.SEQUENTIAL, VOLUME_BYTES, VOLUME_BYTES);
                    }
                    for (int depth : DEPTHS) {
                        DeviceLoad.write(device, data, BLOCK, depth, Skew.UNIFORM, VOLUME_BYTES, Long.MAX_VALUE,
                                warmUp, 0);
                        DeviceLoad.Result result = DeviceLoad.write(device, data, BLOCK, depth, Skew.UNIFORM,
                                VOLUME_BYTES, Long.MAX_VALUE, seconds, 0);
                        Row row = new Row(n, depth, result);
                        System.out.println(String.format(Locale.ROOT, "replication copies=%d qd=%-2d %,10.0f IOPS  mean %,8.0f us %s",
                                n, depth, row.iops(), row.meanMicros(), result.errorText()));
                        rows.add(row);
                    }
                }
            }
            return new Results(rows, seconds, warmUp, load);
        } finally {
            for (NvmeTarget t : targets) {
                t.close();
            }
            control.shutdownNow();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            for (BenchEngine e : engines) {
                e.close();
            }
            data.release();
        }
    }

    private static RemoteReplica connect(String nodeId, NioEventLoopGroup group, int port) throws Exception {
        return RemoteReplica.connect(nodeId, group, HostOptions.defaults(PRIMARY_HOST).withIoQueues(2, 64), "127.0.0.1",
                port, REPLICA_NQN, 1).get(10, TimeUnit.SECONDS);
    }

    private static String markdown(Results r, String command) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append(SECTION_TITLE).append("\n\n");
        md.append(String.format(Locale.ROOT, """
                Written by `bin/basalt bench --replication --output docs/benchmarks.md` (which replaces this
                section only): 4 KiB random writes (uniform over a %d MiB volume written through once before)
                through the primary's `ReplicatedStore` and the data-plane volume layer, with no host network in
                front: what replication adds to a write. Three storage engines in one process, each on a sparse
                %d GiB drive file; the secondaries serve their copies through real NVMe/TCP targets on loopback
                (one controller with 2 I/O queues, each its own TCP connection, from the primary to each), so
                every forwarded write crosses TCP as between nodes, but all three copies share the machine's CPUs
                and disk. Each run: %d s warm-up,
                %d s measured. Mean latency is queue depth over IOPS (Little's law).

                """, VOLUME_BYTES >> 20, DRIVE_BYTES >> 30, r.warmUpSeconds(), r.seconds()));
        md.append("- Command: `").append(command).append("`\n");
        md.append(BenchReport.machineLines());
        md.append("- Date: ").append(LocalDate.now(ZoneOffset.UTC)).append("\n");
        md.append("- Load average at the start (1, 5, 15 min): ").append(r.loadAtStart())
                .append(QosBench.loaded(r.loadAtStart()) ? " — **the machine was loaded** (above 2 on its "
                        + Runtime.getRuntime().availableProcessors() + " CPUs): the figures swing with it" : "")
                .append("\n\n");
        md.append("| Copies | Queue depth | Write IOPS | Of 1 copy | Mean latency µs | Failed writes |\n");
        md.append("| ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Row row : r.rows()) {
            double single = r.rows().stream().filter(o -> o.copies() == 1 && o.depth() == row.depth())
                    .mapToDouble(Row::iops).findFirst().orElse(row.iops());
            md.append(String.format(Locale.ROOT, "| %d | %d | %,.0f | %.0f%% | %,.0f | %d |%n", row.copies(), row.depth(),
                    row.iops(), 100 * row.iops() / single, row.meanMicros(), row.load().errors()));
        }
        md.append("\n");
        return md.toString();
    }
}
