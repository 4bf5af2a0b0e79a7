package io.basalt.service;

import io.basalt.service.config.ConfigKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
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
        assertTrue(stderr().contains("a command is required") && stderr().contains("Usage: basalt"), stderr());
    }

    @Test
    void helpListsEveryKey() {
        assertEquals(0, Main.run(new String[]{"help", "serve"}));
        assertTrue(stdout().contains("nvme.discovery-port") && stdout().contains("BASALT_NVME_DISCOVERY_PORT"), stdout());
        assertEquals(0, Main.run(new String[]{"serve", "--help"}));
    }

    @Test
    void unknownCommandsFail() {
        assertEquals(Main.EXIT_USAGE, Main.run(new String[]{"server"}));
        assertTrue(stderr().contains("Unmatched argument at index 0: 'server'"), stderr());
    }

    @Test
    void badConfigurationFailsBeforeStartingAnything() {
        assertEquals(Main.EXIT_USAGE, Main.run(new String[]{"serve", "--nvme.port=http"}));
        assertTrue(stderr().contains("configuration error: nvme.port must be an integer"), stderr());
    }

    @Test
    void helpListsTheEngineAndApiKeys() {
        assertEquals(0, Main.run(new String[]{"serve", "--help"}));
        for (String text : List.of("engine.drive-size", "BASALT_ENGINE_DRIVE_SIZE", "engine.segment-size",
                "engine.max-oversubscription", "volume.compression", "api.admin-token", "BASALT_API_ADMIN_TOKEN",
                "api.project-tokens", "api.tls-cert", "api.tls-key")) {
            assertTrue(stdout().contains(text), text + " in:\n" + stdout());
        }
        assertEquals("4096", defaultShownFor("volume.block-size"));
    }

    /**
     * Every key without a value of its own used to be shown as "(default: nvme.bind)", the fallback
     * of nvme.advertised-address only; this failed against that help text.
     */
    @Test
    void helpShowsEachKeysOwnDefault() {
        assertEquals(0, Main.run(new String[]{"serve", "--help"}));
        assertEquals("generated once into <data>/api-admin-token", defaultShownFor("api.admin-token"));
        assertEquals("none: plain HTTP", defaultShownFor("api.tls-cert"));
        assertEquals("none: plain HTTP", defaultShownFor("api.tls-key"));
        assertEquals("the value of nvme.bind", defaultShownFor("nvme.advertised-address"));
        assertEquals("127.0.0.1", defaultShownFor("nvme.bind"));
    }

    /** serve --help is generated from ConfigKey; the operator's guide must not fall behind it. */
    @Test
    void everyKeyInTheHelpIsInTheOperationsGuide() throws Exception {
        String guide = Files.readString(Path.of("..", "docs", "operations.md"));
        for (ConfigKey key : ConfigKey.values()) {
            assertTrue(guide.lines().anyMatch(line -> line.startsWith("| `") && line.contains("`" + key.key() + "`")),
                    key.key() + " in docs/operations.md's table of keys");
        }
    }

    /** The default in the help of option --KEY, whose description may wrap over several lines. */
    private String defaultShownFor(String key) {
        String help = stdout();
        int start = help.indexOf("--" + key + "=");
        assertTrue(start >= 0, key + " in:\n" + help);
        int end = help.indexOf("]", start);
        String description = help.substring(start, end).replaceAll("\\s+", " ");
        return description.substring(description.indexOf("default: ") + "default: ".length());
    }

    @Test
    void badEngineAndApiSettingsAreConfigurationErrors() {
        assertEquals(Main.EXIT_USAGE, Main.run(new String[]{"serve", "--engine.segment-size=3MiB"}));
        assertTrue(stderr().contains("configuration error: engine.segment-size"), stderr());
        assertEquals(Main.EXIT_USAGE, Main.run(new String[]{"serve", "--api.tls-cert=/tmp/cert.pem"}));
        assertTrue(stderr().contains("configuration error: api.tls-cert and api.tls-key"), stderr());
    }

    @Test
    void anUnusableTokenStopsTheStartWithAMessage(@TempDir Path dataDir) {
        String[] args = {"serve", "--data-dir=" + dataDir, "--nvme.port=0", "--nvme.discovery-port=0",
                "--api.port=0", "--engine.drive-size=256MiB", "--engine.segment-size=2MiB",
                "--api.project-tokens=not a project=secret"};
        int status = assertDoesNotThrow(() -> Main.run(args), "an operator's mistake, not a crash");
        assertTrue(status == Main.EXIT_USAGE || status == ServeCommand.EXIT_STARTUP_FAILED, "status " + status);
        assertTrue(stderr().contains("not a project"), stderr());
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }
}
