package io.basalt.service.replication;

import io.basalt.cluster.Cluster;
import io.basalt.cluster.ClusterSettings;
import io.basalt.cluster.etcd.ClusterKeys;
import io.basalt.cluster.etcd.EtcdProcess;
import io.basalt.cluster.etcd.PausableProxy;
import io.basalt.cluster.membership.Capacity;
import io.basalt.cluster.membership.LeaseFence;
import io.basalt.cluster.membership.NodeDescription;
import io.basalt.cluster.membership.PortalAddress;
import io.basalt.cluster.volumes.VolumeTransactions;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.service.dataplane.VolumeDevice;
import io.basalt.service.engine.IoResult;
import io.basalt.service.engine.PowerLossMedia;
import io.basalt.service.engine.drive.FileMedia;
import io.basalt.service.engine.drive.NodeMedia;
import io.etcd.jetcd.Client;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The replication data path with real parts: three engines on drive files (the primary A, secondaries
 * B and C), the secondaries served over real NVMe/TCP targets and reached through Basalt's host client,
 * and the volume's record with its in-sync set and generation in a real etcd (Debian's, started and
 * stopped by PID). Every copy is read back from its own engine.
 */
class ReplicationTest {
    private static final long BLOCKS = 4096;
    private static final int REGION = 64;
    private static final long TIMEOUT_SECONDS = 10;

    private static EtcdProcess etcd;
    private static Client client;
    private static NioEventLoopGroup group;
    private static ScheduledExecutorService control;

    @TempDir
    Path dir;
    private VolumeTransactions transactions;
    private final List<ReplicaNode> nodes = new ArrayList<>();
    private ReplicatedStore store;
    /** What the host wrote, block by block: every in-sync copy must read back as this. */
    private final byte[] image = new byte[(int) (BLOCKS * ReplicaNode.BLOCK)];
    /**
     * Blocks with a command in flight. Commands in flight at once may run in any order (NVMe orders
     * none), so copies agree only where a host never overlaps them, as hosts do not.
     */
    private final boolean[] busy = new boolean[(int) BLOCKS];
    /** How long a secondary may answer nothing before the primary cuts it. */
    private long replicationTimeoutSeconds = 2;
    /** B's drives, when a test makes them ones that lose power; files otherwise. */
    private NodeMedia mediaOfB = FileMedia.INSTANCE;

    @BeforeAll
    static void startEtcd() throws Exception {
        EtcdProcess.assumeInstalled();
        etcd = EtcdProcess.start();
        client = Client.builder().endpoints(etcd.endpoints().toArray(URI[]::new)).build();
        group = new NioEventLoopGroup(2);
        control = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stopEtcd() throws Exception {
        if (control != null) {
            control.shutdownNow();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            client.close();
            etcd.close();
        }
    }

    @BeforeEach
    void record() throws Exception {
        transactions = new VolumeTransactions(client, new ClusterKeys(dir.getFileName().toString()), Duration.ofSeconds(5));
    }

    @AfterEach
    void close() throws Exception {
        if (store != null) {
            store.close();
        }
        for (ReplicaNode n : nodes) {
            n.close();
        }
    }

    /** Nodes A (primary), B and C up to {@code copies}; the secondaries served and connected at generation 1. */
    private void start(int copies) throws Exception {
        start(copies, transactions, null);
    }

    /**
     * @param through a proxy to C's target (created here) through which the primary reaches C, or null
     * @param inSyncRecords the transactions the in-sync set is recorded with
     */
    private PausableProxy start(int copies, VolumeTransactions inSyncRecords, PausableProxy[] through) throws Exception {
        PausableProxy proxy = null;
        List<String> ids = List.of("A", "B", "C").subList(0, copies);
        assertTrue(transactions.create("v1", "p", "vol", ("{\"id\":\"v1\",\"project\":\"p\",\"name\":\"vol\",\"nodeIds\":"
                + "[\"" + String.join("\",\"", ids) + "\"],\"generation\":1}").getBytes(StandardCharsets.UTF_8)));
        List<RemoteReplica> secondaries = new ArrayList<>();
        for (String id : ids) {
            ReplicaNode node = new ReplicaNode(id, dir.resolve(id), BLOCKS, group,
                    id.equals("B") ? mediaOfB : FileMedia.INSTANCE);
            nodes.add(node);
            if (!id.equals("A")) {
                node.serve(1);
                if (id.equals("C") && through != null) {
                    proxy = new PausableProxy(node.port());
                    through[0] = proxy;
                    secondaries.add(node.connect(1, proxy.port()));
                } else {
                    secondaries.add(node.connect(1));
                }
            }
        }
        store = new ReplicatedStore("v1", nodes.getFirst().volume, secondaries, 1,
                new EtcdInSyncSet(inSyncRecords, "v1", "A", control), REGION, replicationTimeoutSeconds, TimeUnit.SECONDS,
                control);
        return proxy;
    }

    @ParameterizedTest(name = "{0} copies")
    @ValueSource(ints = {2, 3})
    void everyCopyHoldsWhatThePrimaryWrote(int copies) throws Exception {
        start(copies);
        Random random = new Random(copies);
        Semaphore depth = new Semaphore(32);
        List<CompletableFuture<IoResult>> results = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            int blocks = 1 + random.nextInt(8);
            depth.acquire();
            long lba = claim(random, (int) BLOCKS, blocks);
            CompletableFuture<IoResult> done = random.nextInt(10) == 0 ? unmap(lba, blocks)
                    : write(lba, blocks, random.nextLong(), random.nextInt(4) == 0);
            done.whenComplete((r, e) -> depth.release());
            results.add(done);
            if (i % 500 == 499) {
                results.add(flush());
            }
        }
        for (CompletableFuture<IoResult> r : results) {
            assertEquals(IoResult.OK, r.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        }
        for (ReplicaNode node : nodes) {
            assertArrayEquals(image, node.image(), "the copy on " + node.id);
        }
        assertEquals(1, store.generation());
    }

    @Test
    void aSecondaryThatStopsIsDroppedWritesGoOnAndItCatchesUpWithOnlyTheChangedRegions() throws Exception {
        start(3);
        ReplicaNode c = nodes.get(2);
        Random random = new Random(11);
        for (long lba = 0; lba < BLOCKS; lba += 8) {
            assertEquals(IoResult.OK, write(lba, 8, random.nextLong(), false).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        }
        assertEquals(IoResult.OK, flush().get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertArrayEquals(image, c.image());

        // Writes at depth 16 into regions 0-9 while C's node stops in their midst.
        List<CompletableFuture<IoResult>> during = new ArrayList<>();
        Semaphore depth = new Semaphore(16);
        for (int i = 0; i < 600; i++) {
            if (i == 200) {
                c.stopServing();
            }
            depth.acquire();
            CompletableFuture<IoResult> done = write(claim(random, 10 * REGION, 4), 4, random.nextLong(), false);
            done.whenComplete((r, e) -> depth.release());
            during.add(done);
        }
        for (CompletableFuture<IoResult> r : during) {
            assertEquals(IoResult.OK, r.get(TIMEOUT_SECONDS, TimeUnit.SECONDS), "writes go on without C");
        }
        // Then writes into regions 20-24 only.
        for (int region = 20; region < 25; region++) {
            assertEquals(IoResult.OK, write((long) region * REGION + 3, 2, random.nextLong(), true)
                    .get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        }
        assertEquals(List.of("B"), store.inSyncNodes());
        assertEquals(2, store.generation(), "taking C out bumped the generation");
        assertEquals(List.of("A", "B"), EtcdInSyncSet.inSync(transactions.read("v1").orElseThrow().json()));
        long dirty = store.dirtyRegions("C");
        assertTrue(dirty >= 5 && dirty <= 15, dirty + " dirty regions: at most regions 0-9 and 20-24");
        assertArrayEquals(image, nodes.get(1).image(), "B took every write");
        assertFalse(Arrays.equals(image, c.image()), "C missed writes");

        // C comes back; writes go on during its catch-up.
        c.serve(1);
        RemoteReplica returned = c.connect(1);
        AtomicBoolean writing = new AtomicBoolean(true);
        List<CompletableFuture<IoResult>> meanwhile = new ArrayList<>();
        Thread writer = Thread.ofPlatform().start(() -> {
            Random r = new Random(12);
            Semaphore d = new Semaphore(8);
            while (writing.get()) {
                d.acquireUninterruptibly();
                CompletableFuture<IoResult> done = write(claim(r, 10 * REGION, 4), 4, r.nextLong(), false);
                done.whenComplete((x, e) -> d.release());
                synchronized (meanwhile) {
                    meanwhile.add(done);
                }
            }
        });
        long copied;
        try {
            copied = store.rejoin(returned, TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } finally {
            writing.set(false);
            writer.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        }
        synchronized (meanwhile) {
            for (CompletableFuture<IoResult> r : meanwhile) {
                assertEquals(IoResult.OK, r.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
            }
        }
        // The regions dirty when it returned, and those the writes during the copy dirtied again (0-9): far
        // fewer than the volume's 64 regions.
        assertTrue(copied >= dirty * REGION && copied <= (dirty + 10L * 8) * REGION && copied < BLOCKS,
                copied + " blocks copied for " + dirty + " dirty regions of " + REGION + " blocks");
        assertEquals(List.of("B", "C"), store.inSyncNodes());
        assertEquals(3, store.generation(), "rejoining bumped the generation again");
        assertEquals(List.of("A", "B", "C"), EtcdInSyncSet.inSync(transactions.read("v1").orElseThrow().json()));
        assertEquals(-1, store.dirtyRegions("C"));
        assertEquals(IoResult.OK, flush().get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        for (ReplicaNode node : nodes) {
            assertArrayEquals(image, node.image(), "the copy on " + node.id);
        }
    }

    /**
     * B's node loses power in the middle of writes: the writes it acknowledged since the last flush may
     * be gone from its drive (a secondary's engine makes them durable only at a flush, as a drive with
     * a volatile write cache does). The host's next flush reaches A only; when B returns, its rejoin must
     * copy those regions too, or B would be "in sync" without writes the host flushed, and a failover to
     * it would lose them. Shown failing (B's copy differed from what the host wrote) without
     * {@link UnflushedRegions} marking them in B's dirty map. The seed of the power cut is printed.
     */
    @Test
    void aSecondaryThatLosesPowerGetsBackTheWritesItHadNotMadeDurable() throws Exception {
        PowerLossMedia power = new PowerLossMedia();
        mediaOfB = power;
        start(2);
        ReplicaNode b = nodes.get(1);
        long seed = System.nanoTime();
        System.out.println("power cut seed " + seed);
        Random random = new Random(seed);
        for (long lba = 0; lba < BLOCKS; lba += 8) {
            assertEquals(IoResult.OK, write(lba, 8, random.nextLong(), false).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        }
        assertEquals(IoResult.OK, flush().get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        // Acknowledged by both copies, never flushed: B holds them in its volatile cache only.
        for (int i = 0; i < 200; i++) {
            assertEquals(IoResult.OK, write(claim(random, (int) BLOCKS, 2), 2, random.nextLong(), false)
                    .get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        }
        power.cutAfter(1);
        assertEquals(IoResult.OK, write(7, 1, random.nextLong(), false).get(TIMEOUT_SECONDS, TimeUnit.SECONDS),
                "the write fails on B and completes without it");
        assertEquals(List.of(), store.inSyncNodes());
        assertEquals(IoResult.OK, flush().get(TIMEOUT_SECONDS, TimeUnit.SECONDS), "the host's flush, on A only");

        b.stopServing();
        power.powerCut(random);
        b.restartEngine();
        assertFalse(Arrays.equals(image, b.image()), "B lost writes it had acknowledged (else this proves nothing)");
        b.serve(2);
        long copied = store.rejoin(b.connect(2), TIMEOUT_SECONDS, TimeUnit.SECONDS);
        assertEquals(List.of("B"), store.inSyncNodes());
        assertArrayEquals(image, b.image(), "B's copy after its rejoin (" + copied + " blocks copied)");
    }

    @Test
    void aReturningSecondaryWithNoWritesMissedCopiesNothing() throws Exception {
        start(2);
        ReplicaNode b = nodes.get(1);
        assertEquals(IoResult.OK, write(5, 1, 7, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        b.stopServing();
        assertEquals(IoResult.OK, flush().get(TIMEOUT_SECONDS, TimeUnit.SECONDS), "the flush went on without B");
        assertEquals(List.of(), store.inSyncNodes());
        assertEquals(0, store.dirtyRegions("B"), "a flush changes no block");
        b.serve(2);
        assertEquals(0, store.rejoin(b.connect(2), TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(List.of("B"), store.inSyncNodes());
    }

    /**
     * A primary that restarted knows nothing of what a secondary out of sync missed, nor of what that
     * secondary holds that it does not (a primary that died may have written blocks locally that never
     * reached the others): that secondary is tracked with every region dirty, and its rejoin compares the
     * whole volume and writes only the blocks that differ, both ways. Shown failing without the
     * comparison (the whole volume, 4096 blocks, copied).
     */
    @Test
    void aSecondaryWhoseChangesThePrimaryDoesNotKnowGetsOnlyTheBlocksThatDiffer() throws Exception {
        start(2);
        ReplicaNode b = nodes.get(1);
        for (long lba = 0; lba < BLOCKS; lba += 64) {
            assertEquals(IoResult.OK, write(lba, 64, lba, false).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        }
        b.stopServing();
        assertEquals(IoResult.OK, write(100, 4, 5, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(List.of(), store.inSyncNodes());
        // A block only B has, as a write of a primary that died before forwarding it would leave.
        CompletableFuture<IoResult> onlyOnB = new CompletableFuture<>();
        b.volume.write(2000, 1, pattern(1, 99), false, onlyOnB::complete);
        assertEquals(IoResult.OK, onlyOnB.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        store.close();
        store = new ReplicatedStore("v1", nodes.getFirst().volume, List.of(), 2,
                new EtcdInSyncSet(transactions, "v1", "A", control), REGION, 2, TimeUnit.SECONDS, control);
        store.trackUnknown("B");
        assertEquals(BLOCKS / REGION, store.dirtyRegions("B"));
        b.serve(2);
        assertEquals(5, store.rejoin(b.connect(2), TIMEOUT_SECONDS, TimeUnit.SECONDS),
                "the 4 blocks B missed and the one only B had");
        assertArrayEquals(image, b.image());
    }

    /**
     * A secondary that may or may not have changed its whole copy (a revert it did not report in time) is
     * taken out of the in-sync set with every region dirty: writes go on without it, and its rejoin
     * compares the whole volume, undoing a block only it changed. Shown failing without the regions
     * marked dirty (no region dirty: 0 instead of 64).
     */
    @Test
    void aSecondaryLeftOutUnknownIsComparedWholeWhenItRejoins() throws Exception {
        start(2);
        ReplicaNode b = nodes.get(1);
        for (long lba = 0; lba < BLOCKS; lba += 64) {
            assertEquals(IoResult.OK, write(lba, 64, lba, false).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        }
        long generation = store.generation();
        assertTrue(store.leaveOutUnknown("B").get(TIMEOUT_SECONDS, TimeUnit.SECONDS) > generation,
                "recorded out of sync with a new generation");
        assertEquals(List.of(), store.inSyncNodes());
        assertEquals(BLOCKS / REGION, store.dirtyRegions("B"));
        // What a late revert on B alone would leave: a block that differs from the primary's.
        CompletableFuture<IoResult> onlyOnB = new CompletableFuture<>();
        b.volume.write(2000, 1, pattern(1, 99), false, onlyOnB::complete);
        assertEquals(IoResult.OK, onlyOnB.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertEquals(IoResult.OK, write(100, 4, 5, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS), "writes go on");
        assertEquals(5, store.rejoin(b.connect(2), TIMEOUT_SECONDS, TimeUnit.SECONDS),
                "the 4 blocks B missed and the one only B changed");
        assertEquals(List.of("B"), store.inSyncNodes());
        assertArrayEquals(image, b.image());
    }

    /**
     * C stops answering without closing anything (its packets held by a paused proxy): the write waiting
     * for it completes once the replication timeout (2 s here) has cut C, and C is out of the in-sync set.
     * The connection to C has no Keep Alive, so nothing else would end the wait: shown failing (the write
     * still waiting after 10 s) without the cut in ReplicatedStore#checkStalls.
     */
    @Test
    void aSecondaryThatAnswersNothingIsCutAfterTheTimeout() throws Exception {
        PausableProxy[] proxy = new PausableProxy[1];
        start(3, transactions, proxy);
        try (PausableProxy toC = proxy[0]) {
            assertEquals(IoResult.OK, write(0, 4, 1, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
            toC.pause();
            assertEquals(IoResult.OK, write(8, 4, 2, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS),
                    "the write completes without C once C is cut");
            assertEquals(List.of("B"), store.inSyncNodes());
            assertEquals(2, store.generation());
            assertEquals(1, store.dirtyRegions("C"));
            assertArrayEquals(image, nodes.get(1).image());
        }
    }

    /**
     * etcd cannot be reached when C fails: no write that missed C is acknowledged, since etcd still lists C
     * in sync and could promote it without them; once etcd answers again, the removal is recorded and
     * writes complete. Shown failing (the write completed OK with C still in sync in etcd) with the wait
     * for the record removed from ReplicatedStore.Command#finish.
     */
    @Test
    void writesThatMissedASecondaryWaitUntilEtcdRecordsItOut() throws Exception {
        int etcdPort = etcd.endpoints().getFirst().getPort();
        try (PausableProxy toEtcd = new PausableProxy(etcdPort);
             Client cutOff = Client.builder().endpoints(URI.create("http://127.0.0.1:" + toEtcd.port())).build()) {
            VolumeTransactions viaProxy = new VolumeTransactions(cutOff, new ClusterKeys(dir.getFileName().toString()),
                    Duration.ofSeconds(1));
            start(3, viaProxy, null);
            assertEquals(IoResult.OK, write(0, 4, 1, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
            toEtcd.pause();
            nodes.get(2).stopServing();
            assertEquals(IoResult.FAILED, write(8, 4, 2, false).get(TIMEOUT_SECONDS, TimeUnit.SECONDS),
                    "not acknowledged while etcd still lists C in sync");
            assertEquals(List.of("A", "B", "C"), EtcdInSyncSet.inSync(transactions.read("v1").orElseThrow().json()));
            toEtcd.resume();
            CompletableFuture<IoResult> later = write(16, 4, 3, false);
            assertEquals(IoResult.OK, later.get(TIMEOUT_SECONDS, TimeUnit.SECONDS), "recorded by the retry");
            assertEquals(List.of("A", "B"), EtcdInSyncSet.inSync(transactions.read("v1").orElseThrow().json()));
            assertEquals(2, store.generation());
        }
    }

    /**
     * B has seen generation 5 (a newer primary was promoted): the old primary's write at generation 1 is
     * refused by B, changes nothing on B, and the old primary acknowledges no write and serves no read any
     * more. Shown failing (the write completed OK and B's block changed) with the check in
     * GenerationFence#admitted removed, and (the read was served) without the check in ReplicatedStore#read.
     */
    @Test
    void aForwardedWriteWithAnOlderGenerationIsRefused() throws Exception {
        start(2);
        ReplicaNode b = nodes.get(1);
        assertEquals(IoResult.OK, write(10, 1, 1, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        byte[] before = b.image();
        b.fence.raise(5);
        CompletableFuture<IoResult> stale = new CompletableFuture<>();
        store.write(10, 1, pattern(1, 99), true, stale::complete);
        assertEquals(IoResult.FENCED, stale.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertTrue(store.fenced());
        assertArrayEquals(before, b.image(), "B took nothing from the deposed primary");
        CompletableFuture<IoResult> after = new CompletableFuture<>();
        store.write(11, 1, pattern(1, 98), false, after::complete);
        assertEquals(IoResult.FENCED, after.get(TIMEOUT_SECONDS, TimeUnit.SECONDS), "a fenced primary acknowledges nothing");
        assertEquals(IoResult.FENCED, read(10), "nor serves reads, which could be older than the new primary's data");
        assertEquals(List.of("B"), store.inSyncNodes(), "a refusal for the generation is not B's failure");
        assertEquals(5, b.fence.generation());
    }

    /**
     * The primary A, a member of a cluster through a paused proxy to etcd, acknowledges writes only while
     * its lease fence holds: once it has fallen, a new write is refused without reaching any copy, and a
     * write already in flight (C's answer held back) fails when it completes; B and C stay in sync (the
     * lease is not theirs). Once A's keep-alives get through again, writes are acknowledged again. Shown
     * failing without the check at completion in ReplicatedStore#complete (the write in flight completed
     * OK), without the check at the start in ReplicatedStore#refusedWhileFenced (the new write went to B
     * and waited for C), without it in ReplicatedStore#read (the read was served), and with FENCED mapped
     * to a Write Fault (the status the host heard before).
     */
    @Test
    void writesAreAcknowledgedOnlyWhileThePrimarysLeaseHolds() throws Exception {
        replicationTimeoutSeconds = 60; // C is held back on purpose here, longer than the usual timeout
        PausableProxy[] proxy = new PausableProxy[1];
        start(3, transactions, proxy);
        NodeDescription a = new NodeDescription(UUID.randomUUID().toString(), "rack-a", "http://127.0.0.1:8470",
                List.of(new PortalAddress("tcp", "127.0.0.1", 4420)));
        try (PausableProxy toC = proxy[0]; PausableProxy toEtcd = new PausableProxy(etcd.clientPort());
             Cluster nodeA = Cluster.join(new ClusterSettings(List.of(URI.create("http://127.0.0.1:" + toEtcd.port())),
                     dir.getFileName().toString(), "rack-a", Duration.ofSeconds(3), Duration.ofSeconds(10)), a,
                     () -> new Capacity(1L << 30, 1L << 30))) {
            LeaseFence lease = nodeA.leaseFence();
            store.acknowledgeOnlyWithin(lease);
            awaitLease(lease, true);
            assertEquals(IoResult.OK, write(10, 1, 1, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));

            toC.pause();
            CompletableFuture<IoResult> inFlight = write(20, 1, 2, true);
            toEtcd.pause();
            awaitLease(lease, false);
            assertFalse(inFlight.isDone(), "C's answer is held back");
            byte[] blockOnB = block(nodes.get(1), 30);
            assertEquals(IoResult.FENCED, write(30, 1, 3, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS),
                    "a write started without the lease");
            assertArrayEquals(blockOnB, block(nodes.get(1), 30), "the refused write reached no copy");
            toC.resume();
            assertEquals(IoResult.FENCED, inFlight.get(TIMEOUT_SECONDS, TimeUnit.SECONDS),
                    "a write whose copies completed after the lease fell");
            assertEquals(IoResult.FENCED, flush().get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertEquals(IoResult.FENCED, read(10), "a read, which could miss what a promoted primary took");
            // What a host hears through the volume's device: a path error (status type 3h) without DNR, on
            // which Linux's multipath tries another path, not a Write Fault it retries on this one and then
            // fails to the application.
            CompletableFuture<Integer> status = new CompletableFuture<>();
            new VolumeDevice(store, false).write(30, 1, pattern(1, 6), false, status::complete);
            assertEquals(Status.ANA_TRANSITION, status.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertEquals(List.of("B", "C"), store.inSyncNodes(), "the lease is A's, not a secondary's failure");
            assertFalse(store.fenced(), "no newer primary is known");

            toEtcd.resume();
            awaitLease(lease, true);
            assertEquals(IoResult.OK, write(20, 1, 4, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertEquals(IoResult.OK, write(30, 1, 5, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertEquals(IoResult.OK, read(10));
            for (ReplicaNode node : nodes) {
                assertArrayEquals(image, node.image(), "the copy on " + node.id);
            }
        }
    }

    /**
     * Split brain at the level of these parts: the primary A loses etcd (a paused proxy) while its
     * secondary B, a live member, tries to promote itself every few milliseconds and A keeps being sent
     * writes. B's promotion commits only once A's lease has expired, and every write A acknowledged
     * completed before B even sent that transaction: no moment with two primaries acknowledging. Once
     * B raised its fence to the new generation, A, back in etcd with a new lease, still acknowledges
     * nothing (B refuses its generation). Shown failing (A acknowledged writes after the promotion)
     * without A's lease fence given to its store.
     */
    @Test
    void aPrimaryCutOffFromEtcdStopsAcknowledgingBeforeASecondaryIsPromoted() throws Exception {
        start(2);
        String clusterName = dir.getFileName().toString();
        NodeDescription a = new NodeDescription(UUID.randomUUID().toString(), "rack-a", "http://127.0.0.1:8470",
                List.of(new PortalAddress("tcp", "127.0.0.1", 4420)));
        NodeDescription b = new NodeDescription(UUID.randomUUID().toString(), "rack-b", "http://127.0.0.1:8471",
                List.of(new PortalAddress("tcp", "127.0.0.1", 4421)));
        try (PausableProxy toEtcd = new PausableProxy(etcd.clientPort());
             Cluster nodeA = Cluster.join(new ClusterSettings(List.of(URI.create("http://127.0.0.1:" + toEtcd.port())),
                     clusterName, "rack-a", Duration.ofSeconds(3), Duration.ofSeconds(10)), a,
                     () -> new Capacity(1L << 30, 1L << 30));
             Cluster nodeB = Cluster.join(new ClusterSettings(etcd.endpoints(), clusterName, "rack-b",
                     Duration.ofSeconds(3), Duration.ofSeconds(10)), b, () -> new Capacity(1L << 30, 1L << 30))) {
            // The record the promotion is about names the members' ids (the store's own record, v1, names A and B).
            assertTrue(transactions.create("v2", "p", "vol2", ("{\"id\":\"v2\",\"project\":\"p\",\"name\":\"vol2\","
                    + "\"nodeIds\":[\"" + a.nodeId() + "\",\"" + b.nodeId() + "\"],\"generation\":1}")
                    .getBytes(StandardCharsets.UTF_8)));
            store.acknowledgeOnlyWithin(nodeA.leaseFence());
            awaitLease(nodeA.leaseFence(), true);
            assertEquals(IoResult.OK, write(0, 1, 1, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));

            AtomicLong lastAcknowledged = new AtomicLong(System.nanoTime());
            AtomicBoolean writing = new AtomicBoolean(true);
            ByteBuf block = pattern(1, 2);
            Thread writer = Thread.ofPlatform().start(() -> {
                while (writing.get()) {
                    CompletableFuture<IoResult> done = new CompletableFuture<>();
                    store.write(1, 1, block.retainedDuplicate(), false, done::complete);
                    try {
                        if (done.get(TIMEOUT_SECONDS, TimeUnit.SECONDS) == IoResult.OK) {
                            lastAcknowledged.accumulateAndGet(System.nanoTime(), Math::max);
                        }
                        Thread.sleep(5);
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            Promotion promotion = new Promotion(transactions, b.nodeId(), control);
            Promotion.Result result;
            long sentAt;
            toEtcd.pause();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                do {
                    assertTrue(System.nanoTime() < deadline, "B was not promoted within 30 s of A's cut");
                    Thread.sleep(5);
                    sentAt = System.nanoTime();
                    result = promotion.promote("v2", transactions.read("v2").orElseThrow()).get(TIMEOUT_SECONDS,
                            TimeUnit.SECONDS);
                } while (result.outcome() == Promotion.Outcome.PRIMARY_LIVE);
            } finally {
                writing.set(false);
                writer.join();
            }
            assertEquals(Promotion.Outcome.PROMOTED, result.outcome());
            assertTrue(lastAcknowledged.get() - sentAt < 0, "A acknowledged a write "
                    + (lastAcknowledged.get() - sentAt) / 1_000_000 + " ms after B sent the transaction that promoted it");
            assertEquals(IoResult.FENCED, write(2, 1, 3, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));

            nodes.get(1).fence.raise(result.generation()); // what B does once promoted
            toEtcd.resume();
            awaitLease(nodeA.leaseFence(), true);
            assertEquals(IoResult.FENCED, write(2, 1, 4, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS),
                    "A, a member again, is refused by B's generation");
            assertTrue(store.fenced());
        }
    }

    private IoResult read(long lba) throws Exception {
        CompletableFuture<IoResult> done = new CompletableFuture<>();
        store.read(lba, 1, Unpooled.buffer(ReplicaNode.BLOCK), done::complete);
        return done.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    private static void awaitLease(LeaseFence lease, boolean held) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (lease.mayAcknowledge() != held) {
            assertTrue(System.nanoTime() < deadline, "the lease fence did not " + (held ? "rise" : "fall") + " in 30 s");
            Thread.sleep(10);
        }
    }

    private static byte[] block(ReplicaNode node, int lba) throws Exception {
        return Arrays.copyOfRange(node.image(), lba * ReplicaNode.BLOCK, (lba + 1) * ReplicaNode.BLOCK);
    }

    /** A random start below {@code end} of {@code blocks} blocks none of which has a command in flight. */
    private long claim(Random random, int end, int blocks) {
        synchronized (busy) {
            while (true) {
                int lba = random.nextInt(end - blocks + 1);
                boolean free = true;
                for (int b = lba; b < lba + blocks; b++) {
                    free &= !busy[b];
                }
                if (free) {
                    Arrays.fill(busy, lba, lba + blocks, true);
                    return lba;
                }
            }
        }
    }

    private <T> CompletableFuture<T> released(long lba, int blocks, CompletableFuture<T> done) {
        return done.whenComplete((r, e) -> {
            synchronized (busy) {
                Arrays.fill(busy, (int) lba, (int) lba + blocks, false);
            }
        });
    }

    private CompletableFuture<IoResult> write(long lba, int blocks, long seed, boolean fua) {
        ByteBuf data = pattern(blocks, seed);
        synchronized (image) {
            data.getBytes(0, image, (int) (lba * ReplicaNode.BLOCK), blocks * ReplicaNode.BLOCK);
        }
        CompletableFuture<IoResult> done = new CompletableFuture<>();
        store.write(lba, blocks, data, fua, done::complete);
        return released(lba, blocks, done);
    }

    private CompletableFuture<IoResult> unmap(long lba, int blocks) {
        synchronized (image) {
            Arrays.fill(image, (int) (lba * ReplicaNode.BLOCK), (int) ((lba + blocks) * ReplicaNode.BLOCK), (byte) 0);
        }
        CompletableFuture<IoResult> done = new CompletableFuture<>();
        store.unmap(lba, blocks, done::complete);
        return released(lba, blocks, done);
    }

    private CompletableFuture<IoResult> flush() {
        CompletableFuture<IoResult> done = new CompletableFuture<>();
        store.flush(done::complete);
        return done;
    }

    private static ByteBuf pattern(int blocks, long seed) {
        byte[] bytes = new byte[blocks * ReplicaNode.BLOCK];
        new Random(seed).nextBytes(bytes);
        return Unpooled.wrappedBuffer(bytes);
    }
}
