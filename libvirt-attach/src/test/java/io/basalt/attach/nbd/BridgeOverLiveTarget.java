package io.basalt.attach.nbd;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

/** Test fixture: a bridge on a unix socket in front of a live in-process target, for a whole test class. */
abstract class BridgeOverLiveTarget {
    @TempDir
    static Path dir;
    static RestartableTarget target;
    static NbdBridge bridge;

    @BeforeAll
    static void startTargetAndBridge() throws IOException {
        target = new RestartableTarget();
        bridge = NbdBridge.start(target.bridgeOptions(dir.resolve("nbd.sock")));
    }

    @AfterAll
    static void stopTargetAndBridge() {
        if (bridge != null) {
            bridge.close();
        }
        target.close();
    }
}
