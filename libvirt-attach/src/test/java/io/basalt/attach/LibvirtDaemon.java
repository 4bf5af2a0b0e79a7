package io.basalt.attach;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's libvirtd started by hand (no systemd here), with the QEMU driver configured for this
 * machine: QEMU runs as root because /dev/kvm is unusable anyway, without virtlogd, cgroups,
 * mount namespaces or a security driver, none of which a container offers.
 */
final class LibvirtDaemon implements AutoCloseable {
    static final String URI = "qemu:///system";
    private static final Path LIBVIRTD = Path.of("/usr/sbin/libvirtd");
    private static final Path SOCKET = Path.of("/run/libvirt/libvirt-sock");
    private static final Path QEMU_CONF = Path.of("/etc/libvirt/qemu.conf");
    private static final String QEMU_SETTINGS = """
            user = "root"
            group = "root"
            security_driver = "none"
            cgroup_controllers = [ ]
            namespaces = [ ]
            stdio_handler = "file"
            """;

    private final Process process;

    private LibvirtDaemon(Process process) {
        this.process = process;
    }

    static LibvirtDaemon start(Path workDir) throws IOException, InterruptedException {
        if (!Files.isExecutable(LIBVIRTD) || runStatus("getent", "passwd", "libvirt-qemu") != 0) {
            throw new IllegalStateException("libvirtd or the libvirt-qemu user is missing: run libvirt-attach/src/test/install-deps.sh as root");
        }
        Files.createDirectories(QEMU_CONF.getParent());
        Files.writeString(QEMU_CONF, QEMU_SETTINGS);
        if (Files.exists(SOCKET) && runStatus("virsh", "-c", URI, "version") == 0) {
            throw new IllegalStateException("a libvirtd already serves " + SOCKET + "; stop it first");
        }
        Process p = new ProcessBuilder(LIBVIRTD.toString(), "-p", workDir.resolve("libvirtd.pid").toString())
                .redirectErrorStream(true).redirectOutput(workDir.resolve("libvirtd.log").toFile()).start();
        LibvirtDaemon daemon = new LibvirtDaemon(p);
        Instant deadline = Instant.now().plusSeconds(30);
        while (runStatus("virsh", "-c", URI, "version") != 0) {
            if (!p.isAlive() || Instant.now().isAfter(deadline)) {
                daemon.close();
                throw new IllegalStateException("libvirtd did not come up; see " + workDir.resolve("libvirtd.log"));
            }
            Thread.sleep(200);
        }
        return daemon;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static void run(Duration timeout, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).inheritIO().start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " failed");
        }
    }

    private static int runStatus(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
