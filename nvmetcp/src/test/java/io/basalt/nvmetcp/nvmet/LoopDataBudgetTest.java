package io.basalt.nvmetcp.nvmet;

import io.netty.util.concurrent.ImmediateEventExecutor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoopDataBudgetTest {
    /**
     * The commands of one event loop reserve and return their bytes without the node's counter, which
     * every loop would write: it moves once per chunk. Fails with a loop that takes and returns each
     * command's bytes at the node (chunk 0: the counter moves on every command).
     */
    @Test
    void aLoopsCommandsLeaveTheNodesCounterAlone() {
        NodeDataBudget node = new NodeDataBudget(256L << 20);
        LoopDataBudget loop = node.forLoop(ImmediateEventExecutor.INSTANCE);
        loop.connectionOpened();
        assertTrue(loop.tryReserve(4096));
        long taken = node.takenByLoops();
        assertTrue(taken > 4096, "a chunk taken ahead, " + taken);
        for (int i = 0; i < 1000; i++) {
            assertTrue(loop.tryReserve(128 * 1024));
            loop.release(128 * 1024);
        }
        assertEquals(taken, node.takenByLoops(), "the node's counter moved for the loop's commands");
        assertEquals(4096, node.used(), "bytes held by commands");
        loop.release(4096);
        assertEquals(0, node.used());
        loop.connectionClosed();
        assertEquals(0, node.takenByLoops(), "a loop without connections keeps nothing");
    }

    /** The node's limit holds exactly whatever the loops keep: a loop hands out only bytes it took. */
    @Test
    void theNodesLimitHoldsAcrossLoops() {
        NodeDataBudget node = new NodeDataBudget(1 << 20);
        LoopDataBudget a = node.forLoop(ImmediateEventExecutor.INSTANCE);
        LoopDataBudget b = node.forLoop(new io.netty.channel.embedded.EmbeddedChannel().eventLoop());
        a.connectionOpened();
        b.connectionOpened();
        assertTrue(a.tryReserve(512 * 1024));
        assertTrue(b.tryReserve(256 * 1024));
        assertFalse(b.tryReserve(512 * 1024), "beyond the node's 1 MiB");
        assertTrue(b.tryReserve((1 << 20) - 768 * 1024 - a.idle() - b.idle()), "what is left, taken exactly");
        assertEquals(1 << 20, node.takenByLoops());
        assertFalse(a.tryReserve(a.idle() + 1));
    }
}
