package io.basalt.attach.userspace;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Bridge launchers that run {@link FakeBridgeMain} on the test classpath. */
public final class FakeBridges {
    private FakeBridges() {
    }

    public static BridgeProcess ready() {
        return launcher(List.of(), Duration.ofSeconds(20));
    }

    public static BridgeProcess silent(Duration readyTimeout) {
        return launcher(List.of("--silent"), readyTimeout);
    }

    private static BridgeProcess launcher(List<String> extra, Duration readyTimeout) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), FakeBridgeMain.class.getName()));
        command.addAll(extra);
        return new BridgeProcess(command, readyTimeout, Duration.ofSeconds(10));
    }
}
