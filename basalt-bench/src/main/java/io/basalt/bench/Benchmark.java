package io.basalt.bench;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.NamespaceInfo;
import io.netty.channel.EventLoopGroup;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs one workload: sets up the system under test (an NVMe/TCP target, remote or in this process, or
 * the echo baseline), drives a closed loop of {@code qd} I/Os on each connection through a warm-up and
 * a measured period, and collects the counts and latencies.
 */
final class Benchmark {
    /** Working set of the in-process target and of the echo baseline unless {@code --size} says otherwise. */
    static final long DEFAULT_LOCAL_WORKING_SET = 256L << 20;
    private static final long DRAIN_SECONDS = 30;

    private Benchmark() {
    }

    static BenchResult run(BenchOptions options) throws Exception {
        return options.echoBaseline() ? runEcho(options) : runNvme(options);
    }

    private static int clientThreads(BenchOptions options) {
        return Math.min(options.connections(), Runtime.getRuntime().availableProcessors());
    }

    private static BenchResult runNvme(BenchOptions o) throws Exception {
        if (!o.self()) {
            return runNvme(o, o.address(), o.port(), o.nqn(), o.nsid());
        }
        long localSize = o.workingSet() > 0 ? o.workingSet() : DEFAULT_LOCAL_WORKING_SET;
        try (SelfTarget self = new SelfTarget(localSize, o.hostNqn(), o.engine(), o.engineDir(), o.memoryDrive())) {
            return runNvme(o, "127.0.0.1", self.port(), SelfTarget.NQN, SelfTarget.NSID);
        }
    }

    /** {@code o}'s workload against namespace {@code nsid} of subsystem {@code nqn} at {@code address:port}. */
    static BenchResult runNvme(BenchOptions o, String address, int port, String nqn, int nsid) throws Exception {
        EventLoopGroup group = EventLoops.createForHost(clientThreads(o));
        try {
            HostOptions host = HostOptions.defaults(o.hostNqn()).withDigests(o.digests(), o.digests())
                    .withIoQueues(o.connections(), o.queueDepth() + 1);
            HostController controller = HostController.connect(group, host, address, port, nqn).get();
            try {
                NamespaceInfo ns = controller.identifyNamespace(nsid).get();
                if (!ns.isActive()) {
                    throw new IllegalStateException("namespace " + nsid + " is not visible to " + o.hostNqn());
                }
                if (controller.ioQueueCount() < o.connections() || controller.ioQueue(0).depth() < o.queueDepth()) {
                    throw new IllegalStateException("the target allows " + controller.ioQueueCount() + " I/O queues of "
                            + controller.ioQueue(0).depth() + " commands");
                }
                long workingSet = o.workingSet() > 0 ? Math.min(o.workingSet(), ns.sizeBytes()) : ns.sizeBytes();
                List<BenchTransport> transports = new ArrayList<>();
                for (int i = 0; i < o.connections(); i++) {
                    transports.add(new NvmeTransport(controller.ioQueue(i), nsid, ns.blockSize(), o.ioSize(), o.workload().read));
                }
                return drive(o.engine() ? "engine" : "basalt", o, transports, workingSet);
            } finally {
                controller.close();
            }
        } finally {
            EventLoops.shutdown(group);
        }
    }

    private static BenchResult runEcho(BenchOptions o) throws InterruptedException {
        try (EchoServer server = new EchoServer(o.ioSize(), o.workload().read)) {
            EventLoopGroup group = EventLoops.createForHost(clientThreads(o));
            List<BenchTransport> clients = new ArrayList<>();
            try {
                for (int i = 0; i < o.connections(); i++) {
                    clients.add(new EchoClient(group, server.port(), o.ioSize(), o.workload().read));
                }
                long workingSet = o.workingSet() > 0 ? o.workingSet() : DEFAULT_LOCAL_WORKING_SET;
                return drive("echo", o, clients, workingSet);
            } finally {
                clients.forEach(BenchTransport::close);
                EventLoops.shutdown(group);
            }
        }
    }

    private static BenchResult drive(String system, BenchOptions o, List<BenchTransport> transports, long workingSet)
            throws InterruptedException {
        return drive(List.of(new LoadGroup(system, o, transports, workingSet))).getFirst();
    }

    /**
     * One load of a run: {@code options}' workload over {@code transports}, spread over the first
     * {@code workingSet} bytes of its namespace.
     */
    record LoadGroup(String system, BenchOptions options, List<BenchTransport> transports, long workingSet) {
    }

    /**
     * Drives every group at once through one warm-up and one measured window (the first group's
     * {@code --warmup} and {@code --seconds}), so loads on different namespaces or with different
     * workloads are measured over the very same time; one result per group, in order.
     */
    static List<BenchResult> drive(List<LoadGroup> groups) throws InterruptedException {
        BenchOptions timing = groups.getFirst().options();
        Phase phase = new Phase();
        CountDownLatch idle = new CountDownLatch(groups.stream()
                .mapToInt(g -> g.options().queueDepth() * g.transports().size()).sum());
        List<List<ConnectionLoad>> loadsByGroup = new ArrayList<>();
        for (LoadGroup g : groups) {
            BenchOptions o = g.options();
            List<ConnectionLoad> loads = new ArrayList<>();
            for (int i = 0; i < g.transports().size(); i++) {
                OffsetPattern pattern = new OffsetPattern(o.workload().random, o.ioSize(), g.workingSet(), i,
                        g.transports().size());
                loads.add(new ConnectionLoad(g.transports().get(i), pattern, phase, idle, o.queueDepth(), o.ioSize(),
                        !o.workload().read));
            }
            loadsByGroup.add(loads);
        }
        List<ConnectionLoad> all = loadsByGroup.stream().flatMap(List::stream).toList();
        boolean drained = false;
        try {
            all.forEach(ConnectionLoad::start);
            TimeUnit.SECONDS.sleep(timing.warmUpSeconds());
            long start = System.nanoTime();
            TargetThreadCosts costs = TargetThreadCosts.start();
            phase.set(Phase.MEASURE);
            TimeUnit.SECONDS.sleep(timing.seconds());
            phase.set(Phase.STOP);
            TargetThreadCosts.Spent spent = costs.sinceStart();
            double seconds = (System.nanoTime() - start) / 1e9;
            drained = idle.await(DRAIN_SECONDS, TimeUnit.SECONDS);
            if (!drained) {
                throw new IllegalStateException(idle.getCount() + " I/Os still outstanding " + DRAIN_SECONDS
                        + " s after the run ended");
            }
            long allIos = all.stream().mapToLong(l -> l.completed).sum();
            List<BenchResult> results = new ArrayList<>();
            for (int g = 0; g < groups.size(); g++) {
                LatencyHistogram latencies = new LatencyHistogram();
                long ios = 0;
                long errors = 0;
                String firstError = null;
                for (ConnectionLoad load : loadsByGroup.get(g)) {
                    latencies.add(load.latencies);
                    ios += load.completed;
                    errors += load.errors;
                    firstError = firstError != null ? firstError : load.firstError;
                }
                BenchOptions o = groups.get(g).options();
                boolean inProcess = o.self() || o.echoBaseline();
                double allocatedPerIo = inProcess ? (double) spent.allocatedBytes() / Math.max(1, allIos) : Double.NaN;
                double cpuMicrosPerIo = inProcess ? spent.cpuNanos() / 1e3 / Math.max(1, allIos) : Double.NaN;
                results.add(new BenchResult(groups.get(g).system(), o, ios, seconds, latencies, errors, firstError,
                        allocatedPerIo, cpuMicrosPerIo));
            }
            return results;
        } finally {
            if (drained) { // buffers of I/Os still in flight are left to the garbage collector
                all.forEach(ConnectionLoad::release);
            }
        }
    }
}
