package io.basalt.attach.kernel;

import io.basalt.attach.AttachException;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.api.Portal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The kernel NVMe/TCP host driven through nvme-cli, connecting the way os-brick's NVMe-oF connector does. */
public final class NvmeCli {
    /** EALREADY: nvme-cli's exit status when the controller to that portal exists already. */
    private static final int ALREADY_CONNECTED = 114;

    private final String executable;
    private final Duration timeout;

    public NvmeCli(String executable, Duration timeout) {
        this.executable = executable;
        this.timeout = timeout;
    }

    /**
     * Connects to the volume's subsystem on every portal so native multipath has all paths; reconnects
     * forever ({@code -l -1}) so a target restart never turns into a lost disk. Succeeds when at least
     * one portal is connected.
     */
    public void connect(Volume volume, String hostNqn) throws AttachException {
        List<String> failures = new ArrayList<>();
        int connected = 0;
        for (Portal portal : volume.portals()) {
            if (!"tcp".equalsIgnoreCase(portal.transport())) {
                failures.add(portal.address() + ":" + portal.port() + ": transport " + portal.transport() + " not supported");
                continue;
            }
            Result r = run("connect", "-t", "tcp", "-a", portal.address(), "-s", Integer.toString(portal.port()),
                    "-n", volume.nqn(), "-q", hostNqn, "-l", "-1");
            if (r.status == 0 || r.status == ALREADY_CONNECTED || r.output.contains("already connected")) {
                connected++;
            } else {
                failures.add(portal.address() + ":" + portal.port() + ": " + r.output.strip());
            }
        }
        if (connected == 0) {
            throw new AttachException("nvme connect to " + volume.nqn() + " failed on every portal: " + failures);
        }
    }

    public void disconnect(String nqn) throws AttachException {
        Result r = run("disconnect", "-n", nqn);
        if (r.status != 0) {
            throw new AttachException("nvme disconnect -n " + nqn + " failed: " + r.output.strip());
        }
    }

    private record Result(int status, String output) {
    }

    private Result run(String... args) throws AttachException {
        List<String> command = new ArrayList<>();
        command.add(executable);
        command.addAll(List.of(args));
        Path output = null;
        try {
            // output goes to a file so a child that hangs with its pipe open cannot stall us past the timeout
            output = Files.createTempFile("basalt-nvme", ".out");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AttachException(String.join(" ", command) + " did not finish within " + timeout.toSeconds() + " s");
            }
            return new Result(p.exitValue(), Files.readString(output));
        } catch (IOException e) {
            throw new AttachException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AttachException("interrupted while running " + String.join(" ", command), e);
        } finally {
            if (output != null) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException e) {
                    // a stray file in the temp directory is harmless
                }
            }
        }
    }
}
