package io.basalt.attach;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AttachMainTest {
    private static final String[] UNREACHABLE_LIBVIRT = {"attach", "--domain", "g", "--volume", "v",
            "--host-nqn", "nqn.2014-08.com.example:h", "--libvirt-uri", "qemu+unix:///system?socket=/nonexistent/libvirt-sock"};
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return AttachMain.run(args, new PrintStream(out), new PrintStream(err));
    }

    @Test
    void usageMistakesExitWithTwo() {
        assertEquals(2, run());
        assertEquals(2, run("mount", "--domain", "g", "--volume", "v"));
        assertEquals(2, run("attach", "--domain", "g"));
        assertEquals(2, run("attach", "--domain", "g", "--volume", "v", "--mode", "fuse"));
        assertEquals(2, run("detach", "--domain", "g", "--volume", "v", "--colour"));
        assertTrue(err.toString().contains("Usage:"), err.toString());
        assertTrue(err.toString().contains("must be kernel or userspace, not 'fuse'"), err.toString());
    }

    /** nvme-cli takes secrets only as arguments, which every user sees in the process list. */
    @Test
    void secretsAreForUserspaceModeOnly() {
        assertEquals(2, run("attach", "--domain", "g", "--volume", "v", "--dhchap-secret-file", "/etc/basalt/host.key"));
        assertTrue(err.toString().contains("userspace mode only"), err.toString());
    }

    /** "attach --help" printed "bad argument --help" and exited 2 before picocli; this failed then. */
    @Test
    void everyCommandHasHelp() {
        for (String command : List.of("attach", "detach")) {
            out.reset();
            assertEquals(0, run(command, "--help"), command);
            String help = out.toString();
            for (String option : List.of("--domain", "--volume", "--api", "--token-file", "--data-dir", "--host-nqn",
                    "--libvirt-uri", "--state-dir", "Exit status")) {
                assertTrue(help.contains(option), option + " in the help of " + command + ":\n" + help);
            }
        }
        assertTrue(out.toString().contains("Usage: basalt detach"), out.toString());
    }

    @Test
    void failuresExitWithOneAndSayWhatFailed() {
        assertEquals(1, run(UNREACHABLE_LIBVIRT));
        assertTrue(err.toString().matches("(?s)attach failed: cannot (connect to|load) (libvirt|the libvirt client library).*"), err.toString());
    }

    /**
     * libvirt's C library printed its own line for the same failure before the tool's message: one
     * failure, two messages. Native code writes to the process's stderr, so this runs the tool as a
     * process. Failed before the error callback was installed.
     */
    @Test
    void aFailureIsOneMessage() throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), AttachMain.class.getName()));
        command.addAll(List.of(UNREACHABLE_LIBVIRT));
        Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, process.exitValue(), stderr);
        assertEquals(1, stderr.strip().lines().count(), "one line:\n" + stderr);
        assertTrue(stderr.startsWith("attach failed: "), stderr);
    }
}
