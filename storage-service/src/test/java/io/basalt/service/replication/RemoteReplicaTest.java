package io.basalt.service.replication;

import io.basalt.service.engine.IoResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A secondary's copy through {@link RemoteReplica}'s {@code BlockStore} view, over a real target. */
class RemoteReplicaTest {
    @TempDir
    Path dir;

    /**
     * An unmap longer than one Write Zeroes can carry (65,536 blocks) goes as several, and completes once
     * all of them have: both ends of the range read as zeros on the secondary afterwards.
     */
    @Test
    void anUnmapLongerThanOneWriteZeroesIsSentInPieces() throws Exception {
        long blocks = RemoteReplica.MAX_ZEROES_BLOCKS + 4464;
        NioEventLoopGroup group = new NioEventLoopGroup(1);
        try (ReplicaNode node = new ReplicaNode("B", dir, blocks, group)) {
            node.serve(1);
            RemoteReplica replica = node.connect(1);
            try {
                assertEquals(IoResult.OK, call(done -> replica.write(0, 1, ones(), true, done::complete)));
                assertEquals(IoResult.OK, call(done -> replica.write(blocks - 1, 1, ones(), true, done::complete)));
                assertEquals((byte) 1, firstByte(replica, blocks - 1));
                assertEquals(IoResult.OK, call(done -> replica.unmap(0, blocks, done::complete)));
                assertEquals(0, firstByte(replica, 0));
                assertEquals(0, firstByte(replica, blocks - 1));
            } finally {
                replica.close();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static byte firstByte(RemoteReplica replica, long lba) throws Exception {
        ByteBuf dst = Unpooled.buffer(ReplicaNode.BLOCK);
        assertEquals(IoResult.OK, call(done -> replica.read(lba, 1, dst, done::complete)));
        return dst.getByte(0);
    }

    private static ByteBuf ones() {
        byte[] block = new byte[ReplicaNode.BLOCK];
        Arrays.fill(block, (byte) 1);
        return Unpooled.wrappedBuffer(block);
    }

    private interface Call {
        void start(CompletableFuture<IoResult> done);
    }

    private static IoResult call(Call call) throws Exception {
        CompletableFuture<IoResult> done = new CompletableFuture<>();
        call.start(done);
        return done.get(10, TimeUnit.SECONDS);
    }
}
