package io.basalt.attach.userspace;

import io.basalt.attach.AttachException;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.api.Portal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Starting and stopping a real child process that keeps the bridge's contract. */
class BridgeProcessTest {
    private static final Portal TARGET = new Portal("tcp", "127.0.0.1", 4420);

    @TempDir
    Path dir;

    private long start(BridgeProcess bridge) throws AttachException {
        return bridge.start(dir.resolve("b.sock"), dir.resolve("b.log"), TARGET, "nqn.2026-11.io.basalt:subsystem:x", 1,
                "nqn.2014-08.com.example:host-1");
    }

    @Test
    void startsUntilReadyAndStopsByPid() throws Exception {
        BridgeProcess bridge = FakeBridges.ready();
        long pid = start(bridge);
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        bridge.stop(pid, dir.resolve("b.sock"), dir.resolve("b.log"));
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        assertFalse(Files.exists(dir.resolve("b.log")));
    }

    @Test
    void aBridgeThatNeverSaysReadyIsKilledAndReported() throws Exception {
        long before = System.currentTimeMillis();
        AttachException e = assertThrows(AttachException.class, () -> start(FakeBridges.silent(Duration.ofSeconds(2))));
        assertTrue(e.getMessage().contains("not ready"), e.getMessage());
        assertTrue(System.currentTimeMillis() - before < 15_000);
        assertTrue(ProcessHandle.allProcesses().noneMatch(p -> p.info().commandLine().orElse("").contains(dir.toString())),
                "no bridge left running");
    }

    @Test
    void aPidThatIsNotThisBridgeIsLeftAlone() throws Exception {
        Process other = new ProcessBuilder("sleep", "30").start();
        try {
            FakeBridges.ready().stop(other.pid(), dir.resolve("b.sock"), dir.resolve("b.log"));
            assertTrue(other.isAlive());
        } finally {
            other.destroyForcibly();
        }
    }

    @Test
    void stoppingABridgeThatIsGoneSucceeds() throws Exception {
        FakeBridges.ready().stop(Long.MAX_VALUE, dir.resolve("b.sock"), dir.resolve("b.log"));
    }
}
