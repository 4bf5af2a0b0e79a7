package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A target with no in-capsule data (IOCCSZ 4), MAXH2CDATA of 4 KiB and MDTS of 128 KiB: every write
 * must wait for its R2T and be cut into 4 KiB H2CData PDUs, or the target terminates the connection.
 */
class SmallLimitsTest {
    private static LiveTarget live;
    private static HostController controller;

    @BeforeAll
    static void connect() {
        live = LiveTarget.start(new TargetOptions(2, 32, 0, 4096, 128 * 1024, "SMALL"));
        controller = live.connect(LiveTarget.hostOptions().withDigests(true, true));
    }

    @AfterAll
    static void stop() {
        live.close();
    }

    @ParameterizedTest(name = "{0} blocks")
    @ValueSource(ints = {1, 8, 9, 24, 256})
    void writesGoThroughR2TInMaxH2CDataPieces(int blocks) {
        assertEquals(0, controller.info().inCapsuleDataSize());
        assertEquals(4096, controller.ioQueue(0).maxH2CData());
        byte[] pattern = new byte[blocks * 512];
        new Random(blocks).nextBytes(pattern);
        IoResult written = new IoResult();
        controller.write(1, 4096, blocks, Unpooled.wrappedBuffer(pattern), true, written);
        assertEquals(Status.SUCCESS, written.status());
        IoResult read = new IoResult();
        byte[] back = new byte[pattern.length];
        controller.read(1, 4096, blocks, Unpooled.wrappedBuffer(back).clear(), read);
        assertEquals(Status.SUCCESS, read.status());
        assertArrayEquals(pattern, back);
    }
}
