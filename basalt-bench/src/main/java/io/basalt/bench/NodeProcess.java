package io.basalt.bench;

import io.basalt.service.Main;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A whole node as a process of its own, started as {@code bin/basalt serve} starts one: this JVM's
 * options and class path, {@link Main} {@code serve} and the given arguments. Its output is drained on
 * a thread of its own, the last lines kept for the error when it does not get ready. Stopped by its PID:
 * SIGTERM, as an operator stops one, when closed; SIGKILL by {@link #kill()}.
 */
final class NodeProcess implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("Basalt ready: nvme=(\\S+):(\\d+) \\S+ api=(\\S+)");
    private static final long READY_TIMEOUT_SECONDS = 180;
    private static final long STOP_TIMEOUT_SECONDS = 60;
    private static final int OUTPUT_LINES_KEPT = 20;

    private final Process process;
    private final Deque<String> lastLines = new ArrayDeque<>();
    String nvmeHost;
    int nvmePort;
    URI api;

    private NodeProcess(Process process) {
        this.process = process;
    }

    /** Starts the node and waits, at most {@value #READY_TIMEOUT_SECONDS} s, until it logs that it is ready. */
    static NodeProcess start(List<String> jvmOptions, List<String> serveArguments) throws Exception {
        List<String> command = StartupBench.childJvm();
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve"));
        command.addAll(serveArguments);
        NodeProcess node = new NodeProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
        try {
            node.awaitReady();
        } catch (Exception e) {
            node.close();
            throw e;
        }
        return node;
    }

    long pid() {
        return process.pid();
    }

    /** CPU time the node's process has used so far, every thread (the JIT's too); clock-tick resolution. */
    Duration cpuTime() {
        return process.toHandle().info().totalCpuDuration()
                .orElseThrow(() -> new IllegalStateException("the CPU time of node " + process.pid() + " cannot be read"));
    }

    /** Reads the node's output until its ready line, then keeps draining it on a thread of its own. */
    private void awaitReady() throws Exception {
        BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                for (String line; (line = lines.readLine()) != null; ) {
                    synchronized (lastLines) {
                        Matcher ready = READY.matcher(line);
                        if (ready.find() && api == null) {
                            nvmeHost = ready.group(1);
                            nvmePort = Integer.parseInt(ready.group(2));
                            api = URI.create(ready.group(3));
                            lastLines.notifyAll();
                        }
                        lastLines.addLast(line);
                        if (lastLines.size() > OUTPUT_LINES_KEPT) {
                            lastLines.removeFirst();
                        }
                    }
                }
            } catch (IOException e) {
                // the node is gone; its exit status says the rest
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_TIMEOUT_SECONDS);
        synchronized (lastLines) {
            while (api == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !process.isAlive() && !reader.isAlive()) {
                    throw new IllegalStateException("the node did not get ready: "
                            + String.join(" / ", lastLines));
                }
                lastLines.wait(Math.max(1, Math.min(1000, TimeUnit.NANOSECONDS.toMillis(left))));
            }
        }
    }

    /** {@code kill -9} by PID, as a power cut or a crash stops a node; waits until it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("node " + process.pid() + " survived SIGKILL for " + STOP_TIMEOUT_SECONDS + " s");
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
