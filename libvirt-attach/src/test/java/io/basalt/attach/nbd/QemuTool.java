package io.basalt.attach.nbd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/** Runs qemu-io / qemu-img from Debian's qemu-utils as a real NBD client, bounded in time. */
final class QemuTool {
    private static final Path INSTALL_DEPS = Path.of("src/test/install-deps.sh");

    record Result(int exitCode, String output) {
    }

    private QemuTool() {
    }

    /** The image options that point QEMU's NBD driver at the bridge's socket. */
    static String nbdImage(Path socket) {
        return "driver=nbd,server.type=unix,server.path=" + socket;
    }

    /** qemu-io with one {@code -c} per command. */
    static Process startQemuIo(Path socket, String... commands) throws IOException {
        List<String> command = new ArrayList<>(List.of(executable("qemu-io"), "--image-opts", nbdImage(socket)));
        for (String c : commands) {
            command.add("-c");
            command.add(c);
        }
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    static Result qemuIo(Path socket, long timeoutSeconds, String... commands) throws IOException, InterruptedException {
        return await(startQemuIo(socket, commands), timeoutSeconds);
    }

    static Result qemuImg(long timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(executable("qemu-img")));
        command.addAll(List.of(args));
        return await(new ProcessBuilder(command).redirectErrorStream(true).start(), timeoutSeconds);
    }

    /** Waits for a process; kills it if it outlives the timeout, and fails the test then. */
    static Result await(Process process, long timeoutSeconds) throws IOException, InterruptedException {
        try {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                fail(process.info().command().orElse("process") + " did not finish within " + timeoutSeconds + " s");
            }
            return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(),
                    StandardCharsets.UTF_8));
        } finally {
            process.destroyForcibly();
        }
    }

    private static String executable(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return fail(name + " is not installed; run " + INSTALL_DEPS.toAbsolutePath() + " as root (Debian's qemu-utils)");
    }
}
