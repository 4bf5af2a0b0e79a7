package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.ControllerInfo;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.NamespaceIdentifiers;
import io.basalt.nvmetcp.host.NamespaceInfo;
import io.basalt.nvmetcp.nvme.Opcodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.basalt.nvmetcp.protocol.IoResult.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Connect sequence, controller properties and identify data, from a host's point of view. */
class ConnectAndIdentifyTest {
    private static LiveTarget live;
    private static HostController controller;

    @BeforeAll
    static void connect() {
        live = LiveTarget.start();
        controller = live.connect(LiveTarget.hostOptions());
    }

    @AfterAll
    static void stop() {
        live.close();
    }

    @Test
    void connectEnablesTheControllerAndConnectsTheIoQueues() {
        assertEquals(0x00010300, controller.version(), "NVMe 1.3");
        assertEquals(live.target.options().maxQueueSize() - 1, controller.capabilities() & 0xFFFF, "CAP.MQES");
        assertEquals(1L, await(controller.propertyGet(Opcodes.PROP_CSTS, false)) & 1, "CSTS.RDY");
        assertEquals(2, controller.ioQueueCount());
        assertEquals(1, controller.ioQueue(0).qid());
        assertEquals(2, controller.ioQueue(1).qid());
        assertEquals(63, controller.ioQueue(0).depth(), "64 entries hold 63 commands");
        // another test's controller may still be going away
        LiveTarget.eventually("one controller with an admin queue and two I/O queues",
                () -> live.target.queuePairCount() == 3 && live.target.controllerCount() == 1);
    }

    @Test
    void identifyControllerReportsTheTargetsLimits() {
        ControllerInfo info = await(controller.identifyController());
        assertEquals(controller.cntlid(), info.cntlid());
        assertEquals(LiveTarget.SUBNQN, info.subnqn());
        assertEquals(LiveTarget.SERIAL, info.serial());
        assertEquals(ControllerInfo.TYPE_IO, info.controllerType());
        assertEquals(1024, info.nn());
        assertEquals(8, info.mdts(), "1 MiB in 4 KiB pages");
        assertEquals(1 << 20, info.maxTransferBytes());
        assertEquals((64 + 32768) / 16, info.ioccsz());
        assertEquals(32768, info.inCapsuleDataSize());
        assertEquals(1, info.iorcsz());
        assertTrue((info.oaes() & (1 << 8)) != 0, "namespace attribute notices");
        assertTrue(info.volatileWriteCache());
        assertEquals(info, controller.info(), "the identify data read at connect");
    }

    @Test
    void hostSeesOnlyItsNamespaceWithItsSize() {
        assertArrayEquals(new int[] {1}, await(controller.activeNamespaces()));
        NamespaceInfo ns1 = await(controller.identifyNamespace(1));
        assertTrue(ns1.isActive());
        assertEquals(LiveTarget.NS1_BLOCKS, ns1.nsze());
        assertEquals(LiveTarget.NS1_BLOCKS, ns1.ncap());
        assertEquals(9, ns1.lbads());
        assertEquals(512, ns1.blockSize());
        assertArrayEquals(LiveTarget.NS1_NGUID, ns1.nguid());
        assertEquals(1, ns1.dlfeat() & 0x7, "deallocated blocks read as zeros");
        NamespaceInfo ns2 = await(controller.identifyNamespace(2));
        assertFalse(ns2.isActive(), "namespace 2 is not in this host's ACL");
        assertEquals(0, ns2.nsze());
    }

    @Test
    void anotherHostSeesItsOwnNamespaceWith4KiBBlocks() {
        HostController second = live.connect(HostOptions.defaults(LiveTarget.OTHER_HOST));
        assertArrayEquals(new int[] {2}, await(second.activeNamespaces()));
        NamespaceInfo ns2 = await(second.identifyNamespace(2));
        assertEquals(LiveTarget.NS2_BLOCKS, ns2.nsze());
        assertEquals(12, ns2.lbads());
        assertEquals(4096, ns2.blockSize());
        assertTrue(second.cntlid() != controller.cntlid(), "each host gets its own controller");
        second.close();
    }

    @Test
    void namespaceDescriptorsCarryUuidAndNguid() {
        NamespaceIdentifiers ids = await(controller.namespaceIdentifiers(1));
        assertEquals(LiveTarget.NS1_UUID, ids.uuid());
        assertArrayEquals(LiveTarget.NS1_NGUID, ids.nguid());
    }
}
