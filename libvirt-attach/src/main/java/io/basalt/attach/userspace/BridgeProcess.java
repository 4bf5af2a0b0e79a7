package io.basalt.attach.userspace;

import io.basalt.attach.AttachException;
import io.basalt.attach.Deadline;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.api.Portal;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts and stops the NBD bridge as a separate process. The bridge outlives the command that
 * attached it, so its output goes to a log file rather than a pipe, and detach finds it by PID.
 */
public final class BridgeProcess {
    public static final String MAIN_CLASS = "io.basalt.attach.nbd.NbdBridgeMain";
    private static final String READY = "nbd-bridge ready ";

    private final List<String> launcher;
    private final Duration readyTimeout;
    private final Duration stopTimeout;

    /** @param launcher the command up to and including the main class; the bridge's arguments follow it */
    public BridgeProcess(List<String> launcher, Duration readyTimeout, Duration stopTimeout) {
        this.launcher = List.copyOf(launcher);
        this.readyTimeout = readyTimeout;
        this.stopTimeout = stopTimeout;
    }

    /** The bridge run by this JVM's java on this JVM's classpath, which is this module's runtime classpath. */
    public static BridgeProcess onThisClasspath(Duration readyTimeout, Duration stopTimeout) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new BridgeProcess(List.of(java, "-cp", System.getProperty("java.class.path"), MAIN_CLASS),
                readyTimeout, stopTimeout);
    }

    /** This bridge with {@code arguments} added to every start (such as the files of DH-HMAC-CHAP secrets). */
    public BridgeProcess withArguments(List<String> arguments) {
        List<String> command = new ArrayList<>(launcher);
        command.addAll(arguments);
        return new BridgeProcess(command, readyTimeout, stopTimeout);
    }

    /** Starts a bridge serving the namespace on the socket and returns its PID once it says it is ready. */
    public long start(Path socket, Path log, Portal target, String nqn, int nsid, String hostNqn)
            throws AttachException {
        List<String> command = new ArrayList<>(launcher);
        command.addAll(List.of("--socket", socket.toString(), "--target", target.address() + ":" + target.port(),
                "--nqn", nqn, "--nsid", Integer.toString(nsid), "--host-nqn", hostNqn));
        Process process;
        try {
            Files.createDirectories(socket.getParent());
            Files.deleteIfExists(socket);
            process = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
        } catch (IOException e) {
            throw new AttachException("cannot start the NBD bridge: " + e.getMessage(), e);
        }
        Deadline deadline = Deadline.after(readyTimeout);
        while (!saidReady(log)) {
            if (!process.isAlive()) {
                throw failedStart("exited with status " + process.exitValue() + " before it was ready", socket, log);
            }
            if (deadline.expired()) {
                kill(process.toHandle());
                throw failedStart("was not ready within " + readyTimeout.toMillis() + " ms", socket, log);
            }
            deadline.pause("the NBD bridge to be ready");
        }
        return process.pid();
    }

    /** The error carries the bridge's output, so its files can go: a failed attach leaves nothing behind. */
    private static AttachException failedStart(String what, Path socket, Path log) {
        AttachException e = new AttachException("the NBD bridge " + what + ": " + tail(log));
        try {
            deleteFiles(socket, log);
        } catch (AttachException cleanup) {
            e.addSuppressed(cleanup);
        }
        return e;
    }

    /**
     * Stops the bridge of that socket with SIGTERM (SIGKILL if it lingers) and removes its files. A PID
     * whose command line does not name the socket belongs to another process now and is left alone.
     */
    public void stop(long pid, Path socket, Path log) throws AttachException {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid).filter(h -> servesSocket(h.pid(), socket));
        if (handle.isPresent()) {
            ProcessHandle bridge = handle.get();
            bridge.destroy();
            if (!exited(bridge, stopTimeout)) {
                kill(bridge);
            }
        }
        deleteFiles(socket, log);
    }

    private static void deleteFiles(Path socket, Path log) throws AttachException {
        try {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(log);
        } catch (IOException e) {
            throw new AttachException("cannot remove the NBD bridge's files: " + e.getMessage(), e);
        }
    }

    /** Reads /proc directly: ProcessHandle.Info may truncate a long command line such as a java classpath. */
    private static boolean servesSocket(long pid, Path socket) {
        try {
            List<String> args = List.of(new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    StandardCharsets.UTF_8).split("\0"));
            int i = args.indexOf("--socket");
            return i >= 0 && i + 1 < args.size() && args.get(i + 1).equals(socket.toString());
        } catch (IOException e) {
            // gone since the lookup: nothing to stop
            return false;
        }
    }

    private void kill(ProcessHandle process) throws AttachException {
        process.destroyForcibly();
        if (!exited(process, stopTimeout)) {
            throw new AttachException("the NBD bridge (PID " + process.pid() + ") survived SIGKILL for " + stopTimeout.toSeconds() + " s");
        }
    }

    private static boolean exited(ProcessHandle process, Duration timeout) throws AttachException {
        try {
            process.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AttachException("interrupted while stopping the NBD bridge", e);
        }
    }

    private static boolean saidReady(Path log) {
        return readLog(log).lines().anyMatch(line -> line.startsWith(READY));
    }

    private static String tail(Path log) {
        String text = readLog(log).strip();
        return text.isEmpty() ? "(no output)" : text.substring(Math.max(0, text.length() - 2000));
    }

    private static String readLog(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            // not yet created by the child, or unreadable: either way no ready line yet
            return "";
        }
    }
}
