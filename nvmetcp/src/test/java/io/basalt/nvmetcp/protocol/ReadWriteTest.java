package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostOptions;
import io.basalt.nvmetcp.host.HostQueue;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;
import java.util.stream.Stream;

import static io.basalt.nvmetcp.nvme.Status.SUCCESS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data round trips through a live target: in-capsule writes (up to the 32 KiB IOCCSZ), writes through
 * R2T and H2CData (up to MDTS, 1 MiB, several H2CData PDUs of at most MAXH2CDATA 128 KiB), reads through
 * C2HData, with every digest combination, and with SQ flow control disabled so that reads end with
 * a C2HData PDU carrying the SUCCESS flag instead of a CapsuleResp.
 */
class ReadWriteTest {
    private static LiveTarget live;

    @BeforeAll
    static void start() {
        live = LiveTarget.start();
    }

    @AfterAll
    static void stop() {
        live.close();
    }

    static Stream<Arguments> connections() {
        HostOptions plain = LiveTarget.hostOptions();
        return Stream.of(
                Arguments.of("no digests", plain),
                Arguments.of("header digest", plain.withDigests(true, false)),
                Arguments.of("data digest", plain.withDigests(false, true)),
                Arguments.of("both digests", plain.withDigests(true, true)),
                Arguments.of("SUCCESS flag", plain.withSqFlowControlDisabled(true)),
                Arguments.of("SUCCESS flag, both digests", plain.withDigests(true, true).withSqFlowControlDisabled(true)));
    }

    /**
     * Block counts of 512 bytes: in the capsule (1, 8, 16, 64 = the 32 KiB IOCCSZ), just above it (R2T),
     * 128 KiB, one H2CData more, MDTS.
     */
    private static final int[] SIZES = {1, 8, 16, 64, 65, 256, 257, 2048};

    @ParameterizedTest(name = "{0}")
    @MethodSource("connections")
    void writtenDataReadsBack(String name, HostOptions options) {
        HostController controller = live.connect(options);
        HostQueue queue = controller.ioQueue(0);
        assertEquals(options.headerDigest(), queue.headerDigest());
        assertEquals(options.dataDigest(), queue.dataDigest());
        Random random = new Random(name.hashCode());
        long lba = 0;
        for (int blocks : SIZES) {
            byte[] pattern = new byte[blocks * 512];
            random.nextBytes(pattern);
            ByteBuf src = PooledByteBufAllocator.DEFAULT.directBuffer(pattern.length).writeBytes(pattern);
            ByteBuf dst = PooledByteBufAllocator.DEFAULT.directBuffer(pattern.length);
            try {
                IoResult written = new IoResult();
                controller.write(1, lba, blocks, src, false, written);
                assertEquals(SUCCESS, written.status(), blocks + " blocks written");
                IoResult read = new IoResult();
                controller.read(1, lba, blocks, dst, read);
                assertEquals(SUCCESS, read.status(), blocks + " blocks read");
                assertArrayEquals(pattern, ByteBufUtil.getBytes(dst), blocks + " blocks read back");
            } finally {
                src.release();
                dst.release();
            }
            lba += blocks;
        }
        assertTrue(lba <= LiveTarget.NS1_BLOCKS);
        controller.close();
    }
}
