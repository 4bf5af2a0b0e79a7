package io.basalt.attach.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The target goes away while a client does I/O and comes back on the same port: requests wait and
 * complete, and fail only when the outage outlasts the reconnect deadline.
 */
@Timeout(120)
class NbdReconnectTest {
    private static final long OUTAGE_MILLIS = 1500;
    @TempDir
    Path dir;
    private RestartableTarget target;
    private NbdBridge bridge;

    private void start(Duration deadline) throws IOException {
        target = new RestartableTarget();
        bridge = NbdBridge.start(target.bridgeOptions(dir.resolve("nbd.sock"), deadline));
    }

    @AfterEach
    void stop() {
        if (bridge != null) {
            bridge.close();
        }
        if (target != null) {
            target.close();
        }
    }

    /** Restarts the target after {@link #OUTAGE_MILLIS} from another thread, as the node's supervisor would. */
    private Thread restartLater() {
        Thread restarter = new Thread(() -> {
            try {
                Thread.sleep(OUTAGE_MILLIS);
                target.restart();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "target-restarter");
        restarter.start();
        return restarter;
    }

    @Test
    void requestsDuringAnOutageCompleteOnceTheTargetIsBack() throws Exception {
        start(NbdBridgeOptions.DEFAULT_RECONNECT_DEADLINE);
        byte[] before = RawNbdClient.pattern(64 * 1024, 7);
        byte[] during = RawNbdClient.pattern(256 * 1024, 8);
        try (RawNbdClient client = RawNbdClient.connect(bridge.socketPath())) {
            client.negotiate();
            assertEquals(0, client.write(1, 0, before).error());

            target.stop();
            Thread restarter = restartLater();
            long started = System.nanoTime();
            client.sendRequest(0, NbdProtocol.CMD_WRITE, 2, 1 << 20, during.length, during);
            client.sendRequest(0, NbdProtocol.CMD_FLUSH, 3, 0, 0, null);
            assertEquals(0, client.readReply(0).error());
            assertEquals(0, client.readReply(0).error());
            RawNbdClient.SimpleReply read = client.read(4, 0, before.length);
            restarter.join();

            assertEquals(0, read.error());
            assertArrayEquals(before, read.data());
            assertTrue(System.nanoTime() - started >= Duration.ofMillis(OUTAGE_MILLIS).toNanos() / 2,
                    "the requests really waited for the target");
        }
        assertArrayEquals(during, target.device.contents(1 << 20, during.length));
    }

    @Test
    void qemuIoRidesThroughATargetRestart() throws Exception {
        start(NbdBridgeOptions.DEFAULT_RECONNECT_DEADLINE);
        assertEquals(0, QemuTool.qemuIo(bridge.socketPath(), 60, "write -P 0x5a 0 4M").exitCode());

        target.stop();
        Process qemuIo = QemuTool.startQemuIo(bridge.socketPath(), "read -P 0x5a 0 4M", "write -P 0xa5 4M 4M",
                "flush", "read -P 0xa5 4M 4M");
        Thread restarter = restartLater();
        QemuTool.Result result = QemuTool.await(qemuIo, 60);
        restarter.join();

        assertEquals(0, result.exitCode(), result.output());
        assertFalse(result.output().contains("error") || result.output().contains("Pattern verification failed"),
                result.output());
        byte[] expected = new byte[4 << 20];
        Arrays.fill(expected, (byte) 0xa5);
        assertArrayEquals(expected, target.device.contents(4 << 20, 4 << 20));
    }

    @Test
    void requestsFailWithEioOnlyAfterTheDeadlineAndTheBridgeRecovers() throws Exception {
        Duration deadline = Duration.ofSeconds(1);
        start(deadline);
        try (RawNbdClient client = RawNbdClient.connect(bridge.socketPath())) {
            client.negotiate();
            target.stop();
            long started = System.nanoTime();
            RawNbdClient.SimpleReply read = client.read(1, 0, 4096);
            long waited = System.nanoTime() - started;
            assertEquals(NbdProtocol.EIO, read.error());
            assertTrue(waited >= deadline.toNanos(), "failed after " + waited / 1_000_000 + " ms");

            target.restart();
            long retryUntil = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            int error;
            do {
                error = client.read(2, 0, 4096).error();
            } while (error != 0 && System.nanoTime() < retryUntil);
            assertEquals(0, error, "the bridge reconnected once the target was back");
        }
    }
}
