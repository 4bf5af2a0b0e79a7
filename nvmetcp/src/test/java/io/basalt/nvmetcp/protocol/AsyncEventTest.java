package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.NamespaceInfo;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static io.basalt.nvmetcp.protocol.IoResult.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** ACL changes reach a connected host as a Namespace Attribute Changed event, without a reconnect. */
class AsyncEventTest {
    private LiveTarget live;
    private HostController controller;

    @BeforeEach
    void connect() {
        live = LiveTarget.start();
        controller = live.connect(LiveTarget.hostOptions());
    }

    @AfterEach
    void stop() {
        live.close();
    }

    /**
     * An Asynchronous Event Request the controller holds: a later admin command's completion proves the
     * request was processed (the admin queue runs in order) without completing.
     */
    private CompletableFuture<Integer> outstandingEventRequest() {
        CompletableFuture<Integer> event = controller.asyncEventRequest();
        await(controller.getFeatures(Opcodes.FEATURE_ASYNC_EVENT_CONFIG));
        assertFalse(event.isDone(), "no event before the ACL changes: " + event);
        return event;
    }

    @Test
    void namespaceAddedToTheAclIsAnnouncedAndUsable() {
        assertArrayEquals(new int[] {1}, await(controller.activeNamespaces()));
        assertEquals(1 << 8, await(controller.getFeatures(Opcodes.FEATURE_ASYNC_EVENT_CONFIG)) & (1 << 8),
                "connect enabled namespace attribute notices");
        CompletableFuture<Integer> event = outstandingEventRequest();

        live.subsystem.setAllowedHosts(2, Set.of(LiveTarget.OTHER_HOST, LiveTarget.HOST));

        assertEquals(0x00040002, (int) await(event), "notice, namespace attribute changed, log page 04h");
        assertArrayEquals(new int[] {2}, await(controller.changedNamespaces()));
        assertArrayEquals(new int[] {1, 2}, await(controller.activeNamespaces()));
        NamespaceInfo ns2 = await(controller.identifyNamespace(2));
        assertEquals(LiveTarget.NS2_BLOCKS, ns2.nsze());
        IoResult read = new IoResult();
        controller.read(2, 0, 1, Unpooled.buffer(4096), read);
        assertEquals(Status.SUCCESS, read.status(), "the new namespace takes I/O on the existing queues");
    }

    @Test
    void namespaceRemovedFromTheAclIsAnnouncedAndRefusesIo() {
        CompletableFuture<Integer> added = outstandingEventRequest();
        live.subsystem.setAllowedHosts(2, Set.of(LiveTarget.OTHER_HOST, LiveTarget.HOST));
        assertEquals(0x00040002, (int) await(added));
        assertArrayEquals(new int[] {2}, await(controller.changedNamespaces()), "reading the log re-arms the notice");
        await(controller.identifyNamespace(2));
        CompletableFuture<Integer> event = outstandingEventRequest();

        live.subsystem.setAllowedHosts(2, Set.of(LiveTarget.OTHER_HOST));

        assertEquals(0x00040002, (int) await(event));
        assertArrayEquals(new int[] {2}, await(controller.changedNamespaces()));
        assertArrayEquals(new int[] {1}, await(controller.activeNamespaces()));
        IoResult read = new IoResult();
        controller.read(2, 0, 1, Unpooled.buffer(4096), read);
        assertEquals(Status.INVALID_NAMESPACE | Status.DNR, read.status());
    }
}
