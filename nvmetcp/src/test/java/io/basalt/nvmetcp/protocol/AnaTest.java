package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.AnaLog;
import io.basalt.nvmetcp.host.ControllerInfo;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.NamespaceInfo;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.AnaState;
import io.basalt.nvmetcp.nvmet.CntlidRange;
import io.basalt.nvmetcp.nvmet.Namespace;
import io.basalt.nvmetcp.nvmet.NvmeTarget;
import io.basalt.nvmetcp.nvmet.Subsystem;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.basalt.nvmetcp.nvmet.TargetPort;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static io.basalt.nvmetcp.protocol.IoResult.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Asymmetric Namespace Access: one subsystem reached through two ports of one target, as a
 * multipath host reaches a volume through two paths. Namespace 1 is in ANA group 1, namespace 2 in
 * group 2; the test host (Basalt's own initiator) connects a controller through each port.
 */
class AnaTest {
    private static final String SUBNQN = "nqn.2026-11.io.basalt:ana-test";
    private static final String HOST = LiveTarget.HOST;
    /** The event an ANA change notice completes an Asynchronous Event Request with: notice 03h, log page 0Ch. */
    private static final int ANA_CHANGE_EVENT = 0x2 | 0x03 << 8 | Opcodes.LOG_ANA << 16;

    private final NioEventLoopGroup targetGroup = new NioEventLoopGroup(2);
    private final NioEventLoopGroup hostGroup = new NioEventLoopGroup(2);
    private final ExecutorService completer = Executors.newSingleThreadExecutor();
    private NvmeTarget target;
    private InetSocketAddress portA;
    private InetSocketAddress portB;
    private HostController pathA;
    private HostController pathB;

    @BeforeEach
    void start() {
        target = new NvmeTarget(TargetOptions.defaults("BASALT-ANA"), targetGroup);
        Subsystem subsystem = new Subsystem(SUBNQN, "BASALT-ANA", "Basalt ANA test");
        subsystem.addNamespace(new Namespace(1, UUID.randomUUID(), new byte[16],
                new TestDevice(512, 2048, completer), Set.of(HOST), 1));
        subsystem.addNamespace(new Namespace(2, UUID.randomUUID(), new byte[16],
                new TestDevice(512, 2048, completer), Set.of(HOST), 2));
        target.addSubsystem(subsystem);
        portA = await(target.listen(new TargetPort("127.0.0.1", 0, "127.0.0.1", false)));
        portB = await(target.listen(new TargetPort("127.0.0.1", 0, "127.0.0.1", false)));
        HostOptions options = HostOptions.defaults(HOST).withIoQueues(1, 16);
        pathA = await(HostController.connect(hostGroup, options, "127.0.0.1", portA.getPort(), SUBNQN));
        pathB = await(HostController.connect(hostGroup, options, "127.0.0.1", portB.getPort(), SUBNQN));
    }

    @AfterEach
    void stop() {
        pathA.close();
        pathB.close();
        target.close();
        hostGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        targetGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        completer.shutdownNow();
    }

    /**
     * ANACAP claimed bit 3 (persistent loss, a state never reported) instead of bit 2 (inaccessible,
     * the state every secondary's path is in); this test failed so before the fix.
     */
    @Test
    void identifyAdvertisesAnaReportingAndEveryNamespacesGroup() {
        ControllerInfo info = pathA.info();
        assertEquals(0x08, info.cmic() & 0x08, "CMIC: ANA reporting");
        assertEquals(0x03, info.cmic() & 0x03, "CMIC: several ports and controllers");
        assertEquals(0x01 | 0x02 | 0x04 | 0x10, info.anacap() & 0x1F,
                "ANACAP: optimized, non-optimized, inaccessible and change; never persistent loss");
        assertEquals(0xC0, info.anacap() & 0xC0, "ANACAP: fixed, non-zero group IDs");
        assertTrue(info.anatt() > 0, "ANATT");
        assertEquals(Namespace.MAX_ANA_GROUP, info.anagrpmax());
        assertEquals(Namespace.MAX_ANA_GROUP, info.nanagrpid());
        assertEquals(1 << 11, info.oaes() & 1 << 11, "OAES: ANA change notices");
        assertEquals(1 << 11, await(pathA.getFeatures(Opcodes.FEATURE_ASYNC_EVENT_CONFIG)) & 1 << 11,
                "the host enabled ANA change notices");
        NamespaceInfo ns1 = await(pathB.identifyNamespace(1));
        NamespaceInfo ns2 = await(pathB.identifyNamespace(2));
        assertEquals(1, ns1.anagrpid());
        assertEquals(2, ns2.anagrpid());
        assertEquals(1, ns1.nmic() & 1, "NMIC: shared by controllers");
    }

    @Test
    void anaLogReportsEachGroupsStateThroughThePortItIsReadOn() {
        AnaLog before = await(pathB.anaLog(false));
        assertEquals(2, before.groups().size());
        assertEquals(AnaLog.OPTIMIZED, before.group(1).state(), "groups never set are optimized");

        target.anaState(portB, SUBNQN, 1, AnaState.INACCESSIBLE);

        AnaLog a = await(pathA.anaLog(false));
        AnaLog b = await(pathB.anaLog(false));
        assertEquals(AnaLog.OPTIMIZED, a.group(1).state(), "port A is unchanged");
        assertEquals(AnaLog.INACCESSIBLE, b.group(1).state());
        assertEquals(AnaLog.OPTIMIZED, b.group(2).state());
        assertArrayEquals(new int[] {1}, b.group(1).nsids());
        assertArrayEquals(new int[] {2}, b.group(2).nsids());
        assertTrue(b.changeCount() > before.changeCount(), "the change count moved");
        assertEquals(b.changeCount(), b.group(1).changeCount(), "group 1 changed last");
        assertTrue(b.group(2).changeCount() < b.group(1).changeCount());

        AnaLog groupsOnly = await(pathB.anaLog(true));
        assertEquals(2, groupsOnly.groups().size(), "RGO keeps every descriptor");
        assertEquals(0, groupsOnly.group(1).nsids().length, "RGO: no NSID lists");
        assertEquals(AnaLog.INACCESSIBLE, groupsOnly.group(1).state());
    }

    /**
     * nvme-cli reads the ANA log 4 KiB at a time up to the largest size Identify allows; a piece past the
     * log's current end was Invalid Field, so `nvme ana-log` failed (KernelMultipathTest showed it; this
     * test failed so before the fix). Past the largest size it still is.
     */
    @Test
    void anaLogIsReadInPiecesUpToItsLargestSize() {
        int largest = pathA.info().anaLogMaxBytes();
        ByteBuf piece = await(pathA.getLogPage(Opcodes.LOG_ANA, 0xFFFFFFFF, 4096, 4096, false));
        assertEquals(4096, piece.readableBytes());
        assertEquals(0, piece.forEachByte(b -> b == 0) == -1 ? 0 : 1, "zeros past the log's end");
        await(pathA.getLogPage(Opcodes.LOG_ANA, 0xFFFFFFFF, largest - 4, 4, false));
        Throwable beyond = assertThrows(java.util.concurrent.CompletionException.class,
                () -> pathA.getLogPage(Opcodes.LOG_ANA, 0xFFFFFFFF, largest + 4, 4, false).join());
        assertTrue(beyond.getCause().getMessage().contains("SC 0x02"), beyond.getCause().getMessage());
    }

    @Test
    void inaccessiblePathRefusesIoWithARetryablePathStatusAndFlippingMovesIo() {
        target.anaState(portB, SUBNQN, 1, AnaState.INACCESSIBLE);
        byte[] pattern = new byte[512];
        java.util.Arrays.fill(pattern, (byte) 0x5A);
        IoResult write = new IoResult();
        pathA.write(1, 7, 1, Unpooled.wrappedBuffer(pattern), false, write);
        assertEquals(Status.SUCCESS, write.status(), "the optimized path takes writes");
        assertEquals(Status.ANA_INACCESSIBLE, read(pathB, 1, 7).status(),
                "SCT 3h SC 02h without DNR: the host retries on another path");
        assertEquals(Status.SUCCESS, read(pathB, 2, 0).status(), "group 2 is still optimized on port B");
        IoResult flush = new IoResult();
        pathB.flush(1, flush);
        assertEquals(Status.ANA_INACCESSIBLE, flush.status(), "every command that reaches the namespace");

        target.anaState(portA, SUBNQN, 1, AnaState.CHANGE);
        assertEquals(Status.ANA_TRANSITION, read(pathA, 1, 7).status());
        target.anaState(portB, SUBNQN, 1, AnaState.OPTIMIZED);
        target.anaState(portA, SUBNQN, 1, AnaState.INACCESSIBLE);

        ByteBuf data = Unpooled.buffer(512);
        IoResult moved = new IoResult();
        pathB.read(1, 7, 1, data, moved);
        assertEquals(Status.SUCCESS, moved.status(), "I/O moved to port B");
        assertEquals(0x5A, data.getByte(0));
        assertEquals(Status.ANA_INACCESSIBLE, read(pathA, 1, 7).status());
        assertEquals(AnaState.INACCESSIBLE, target.anaState(portA, SUBNQN, 1));
        assertThrows(IllegalArgumentException.class, () -> target.anaState(portA, SUBNQN, 0, AnaState.OPTIMIZED));
        assertThrows(IllegalArgumentException.class,
                () -> target.anaState(new InetSocketAddress("127.0.0.1", 1), SUBNQN, 1, AnaState.OPTIMIZED));
    }

    @Test
    void stateChangeIsAnnouncedOnlyThroughItsPortAndReArmedByReadingTheLog() {
        CompletableFuture<Integer> eventA = outstandingEventRequest(pathA);
        CompletableFuture<Integer> eventB = outstandingEventRequest(pathB);

        target.anaState(portB, SUBNQN, 2, AnaState.NON_OPTIMIZED);

        assertEquals(ANA_CHANGE_EVENT, (int) await(eventB), "notice, ANA change, log page 0Ch");
        await(pathA.getFeatures(Opcodes.FEATURE_ASYNC_EVENT_CONFIG));
        assertFalse(eventA.isDone(), "port A's states did not change");

        CompletableFuture<Integer> next = outstandingEventRequest(pathB);
        target.anaState(portB, SUBNQN, 2, AnaState.INACCESSIBLE);
        await(pathB.getFeatures(Opcodes.FEATURE_ASYNC_EVENT_CONFIG));
        assertFalse(next.isDone(), "masked until the host reads the ANA log");
        assertEquals(AnaLog.INACCESSIBLE, await(pathB.anaLog(false)).group(2).state());
        target.anaState(portB, SUBNQN, 2, AnaState.OPTIMIZED);
        assertEquals(ANA_CHANGE_EVENT, (int) await(next), "reading the log re-armed the notice");

        await(pathB.anaLog(false));
        await(pathB.setFeatures(Opcodes.FEATURE_ASYNC_EVENT_CONFIG, 1 << 8));
        CompletableFuture<Integer> disabled = outstandingEventRequest(pathB);
        target.anaState(portB, SUBNQN, 2, AnaState.INACCESSIBLE);
        await(pathB.getFeatures(Opcodes.FEATURE_ASYNC_EVENT_CONFIG));
        assertFalse(disabled.isDone(), "AEC bit 11 clear: no ANA notice");
    }

    /**
     * ANA group IDs are a subsystem's own: a second subsystem's group 1 on the same port keeps its state
     * when the first one's changes, and its controllers hear no notice. With the states kept per port
     * only, this test failed (the other subsystem's path went inaccessible too).
     */
    @Test
    void anaGroupsOfTwoSubsystemsHaveTheirOwnStates() {
        String other = "nqn.2026-11.io.basalt:ana-test-other";
        Subsystem second = new Subsystem(other, "BASALT-ANA2", "Basalt ANA test");
        second.addNamespace(new Namespace(1, UUID.randomUUID(), new byte[16],
                new TestDevice(512, 2048, completer), Set.of(HOST), 1));
        target.addSubsystem(second);
        HostController otherPath = await(HostController.connect(hostGroup, HostOptions.defaults(HOST)
                .withIoQueues(1, 16), "127.0.0.1", portB.getPort(), other));
        try {
            CompletableFuture<Integer> otherEvent = outstandingEventRequest(otherPath);
            target.anaState(portB, SUBNQN, 1, AnaState.INACCESSIBLE);
            assertEquals(Status.ANA_INACCESSIBLE, read(pathB, 1, 0).status());
            assertEquals(Status.SUCCESS, read(otherPath, 1, 0).status(), "the other subsystem's group 1 is optimized");
            assertEquals(AnaLog.OPTIMIZED, await(otherPath.anaLog(false)).group(1).state());
            assertFalse(otherEvent.isDone(), "no notice for a subsystem whose states did not change");

            target.anaState(portB, other, 1, AnaState.INACCESSIBLE);
            assertEquals(ANA_CHANGE_EVENT, (int) await(otherEvent));
            assertEquals(AnaState.INACCESSIBLE, target.anaState(portB, other, 1));
        } finally {
            otherPath.close();
        }
    }

    /**
     * A subsystem served by several targets gives its controllers IDs from its own part of the range, so
     * a host connected to every target sees no ID twice. Allocation from one target-wide counter gave
     * both subsystems' controllers IDs from 1 up, outside the part (this test failed so before).
     */
    @Test
    void controllersGetIdsFromTheirSubsystemsRange() {
        String shared = "nqn.2026-11.io.basalt:ana-test-shared";
        CntlidRange range = CntlidRange.part(1, 3);
        Subsystem second = new Subsystem(shared, "BASALT-ANA3", "Basalt ANA test", range);
        second.addNamespace(new Namespace(1, UUID.randomUUID(), new byte[16],
                new TestDevice(512, 2048, completer), Set.of(HOST), 1));
        target.addSubsystem(second);
        HostOptions options = HostOptions.defaults(HOST).withIoQueues(1, 16);
        HostController first = await(HostController.connect(hostGroup, options, "127.0.0.1", portA.getPort(), shared));
        HostController next = await(HostController.connect(hostGroup, options, "127.0.0.1", portB.getPort(), shared));
        try {
            assertEquals(range.first(), first.cntlid());
            assertEquals(range.first() + 1, next.cntlid());
            assertTrue(pathA.cntlid() < CntlidRange.part(0, 3).last(), "the node's subsystem keeps its IDs");
            assertEquals(new CntlidRange(1, 21839), CntlidRange.part(0, 3));
            assertEquals(new CntlidRange(43679, 65517), CntlidRange.part(2, 3));
            assertThrows(IllegalArgumentException.class, () -> CntlidRange.part(3, 3));
        } finally {
            first.close();
            next.close();
        }
    }

    private static IoResult read(HostController path, int nsid, long lba) {
        IoResult result = new IoResult();
        path.read(nsid, lba, 1, Unpooled.buffer(512), result);
        return result;
    }

    /** An Asynchronous Event Request the controller holds (a later admin command proves it arrived). */
    private static CompletableFuture<Integer> outstandingEventRequest(HostController path) {
        CompletableFuture<Integer> event = path.asyncEventRequest();
        await(path.getFeatures(Opcodes.FEATURE_ASYNC_EVENT_CONFIG));
        assertFalse(event.isDone(), "no event yet: " + event);
        return event;
    }
}
