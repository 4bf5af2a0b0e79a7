package io.basalt.attach;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AttachMainTest {
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return AttachMain.run(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err));
    }

    @Test
    void usageMistakesExitWithTwo() {
        assertEquals(2, run());
        assertEquals(2, run("mount", "--domain", "g", "--volume", "v"));
        assertEquals(2, run("attach", "--domain", "g"));
        assertEquals(2, run("attach", "--domain", "g", "--volume", "v", "--mode", "fuse"));
        assertEquals(2, run("detach", "--domain", "g", "--volume", "v", "--colour"));
        assertEquals(2, run("attach", "--domain", "g", "--volume", "v", "--dhchap-secret-file", "/etc/basalt/host.key"));
        assertTrue(err.toString().contains("userspace mode only"), err.toString());
        assertTrue(err.toString().contains("usage:"));
    }

    @Test
    void failuresExitWithOneAndSayWhatFailed() {
        assertEquals(1, run("attach", "--domain", "g", "--volume", "v", "--host-nqn", "nqn.2014-08.com.example:h",
                "--libvirt-uri", "qemu+unix:///system?socket=/nonexistent/libvirt-sock"));
        assertTrue(err.toString().matches("(?s)attach failed: cannot (connect to|load) (libvirt|the libvirt client library).*"), err.toString());
    }
}
