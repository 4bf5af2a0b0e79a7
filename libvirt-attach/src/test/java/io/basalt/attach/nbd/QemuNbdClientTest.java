package io.basalt.attach.nbd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** QEMU's own NBD client (qemu-io, qemu-img) against the bridge and a live target. */
@Timeout(120)
class QemuNbdClientTest extends BridgeOverLiveTarget {
    private static final long QEMU_TIMEOUT_SECONDS = 60;
    @Test
    void qemuIoWritesReadsDiscardsAndFlushes() throws Exception {
        QemuTool.Result result = QemuTool.qemuIo(bridge.socketPath(), QEMU_TIMEOUT_SECONDS,
                "write -P 0xab 0 1M", "read -P 0xab 0 1M", "discard 0 64k", "read -P 0 0 64k",
                "write -z 128k 64k", "read -P 0 128k 64k", "read -P 0xab 192k 64k",
                "write -f -P 0xcd 2M 3M", "read -P 0xcd 2M 3M", "flush");
        assertEquals(0, result.exitCode(), result.output());
        assertFalse(result.output().contains("error") || result.output().contains("Pattern verification failed"),
                result.output());

        byte[] expected = new byte[3 << 20];
        Arrays.fill(expected, (byte) 0xcd);
        assertArrayEquals(expected, target.device.contents(2 << 20, 3 << 20), "qemu-io's data reached the namespace");
        assertArrayEquals(new byte[64 << 10], target.device.contents(0, 64 << 10), "discarded blocks read as zeros");
    }

    @Test
    void qemuImgSeesTheNamespaceSize() throws Exception {
        QemuTool.Result info = QemuTool.qemuImg(QEMU_TIMEOUT_SECONDS, "info", "--output=json", "--image-opts",
                QemuTool.nbdImage(bridge.socketPath()));
        assertEquals(0, info.exitCode(), info.output());
        assertTrue(info.output().contains("\"virtual-size\": " + RestartableTarget.SIZE), info.output());
    }

    @Test
    void qemuIoGetsEinvalBeyondTheEnd() throws Exception {
        QemuTool.Result result = QemuTool.qemuIo(bridge.socketPath(), QEMU_TIMEOUT_SECONDS,
                "read " + RestartableTarget.SIZE + " 4k");
        assertTrue(result.output().contains("Input/output error") || result.output().contains("Invalid argument")
                        || result.output().contains("out of bounds") || result.output().contains("Request"),
                result.output());
    }
}
