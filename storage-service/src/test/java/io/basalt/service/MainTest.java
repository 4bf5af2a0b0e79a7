package io.basalt.service;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream originalOut;
    private PrintStream originalErr;

    @BeforeEach
    void capture() {
        originalOut = System.out;
        originalErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(originalOut);
        System.setErr(originalErr);
    }

    @Test
    void noArgumentsPrintsUsageAndFails() {
        assertEquals(Main.EXIT_USAGE, Main.run(new String[0]));
        assertTrue(stderr().contains("Usage: basalt <command>"), stderr());
    }

    @Test
    void helpListsEveryKey() {
        assertEquals(0, Main.run(new String[]{"help"}));
        assertTrue(stdout().contains("nvme.discovery-port") && stdout().contains("BASALT_NVME_DISCOVERY_PORT"), stdout());
        assertEquals(0, Main.run(new String[]{"serve", "--help"}));
    }

    @Test
    void unknownCommandsFail() {
        assertEquals(Main.EXIT_USAGE, Main.run(new String[]{"server"}));
        assertTrue(stderr().contains("unknown command 'server'"), stderr());
    }

    @Test
    void badConfigurationFailsBeforeStartingAnything() {
        assertEquals(Main.EXIT_USAGE, Main.run(new String[]{"serve", "--nvme.port=http"}));
        assertTrue(stderr().contains("configuration error: nvme.port must be an integer"), stderr());
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }
}
