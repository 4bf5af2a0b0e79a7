package io.basalt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.service.StorageNode;
import io.basalt.service.config.BasaltConfig;
import io.basalt.service.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code basalt drive list} and {@code basalt drive replace} against a live node of six drive files
 * (4+2) whose drive 1 is gone: listed failed in {@code node status} and {@code drive list}, replaced and
 * followed to the end of its rebuild with the progress on stderr.
 */
class DriveCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dataDir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    void aFailedDriveIsListedAndReplacedAndItsRebuildFollowed() throws Exception {
        StorageNode.start(config()).close();
        Files.delete(dataDir.resolve("d1.img"));
        try (StorageNode node = StorageNode.start(config())) {
            String api = "http://127.0.0.1:" + node.apiAddress().getPort();
            assertEquals(0, client(api, "node", "status"), err.toString());
            assertTrue(field("failed drives").equals("1 (" + dataDir.resolve("d1.img") + "): missing at start"),
                    out.toString());
            assertTrue(field("erasure code").startsWith("4+2 (raw "), out.toString());

            assertEquals(0, client(api, "drive", "list"), err.toString());
            assertTrue(out.toString().lines().anyMatch(l -> l.startsWith("1 ") && l.contains("failed")
                    && l.contains("missing at start")), out.toString());
            assertTrue(out.toString().contains("scrub: off"), out.toString());

            assertEquals(1, client(api, "drive", "replace", "--drive", "0", "--with", dataDir.resolve("n0").toString()));
            assertTrue(err.toString().contains("answered 409") && err.toString().contains("only a failed drive"),
                    err.toString());

            Path replacement = dataDir.resolve("new1.img");
            assertEquals(0, client(api, "drive", "replace", "--drive", "1", "--with", replacement.toString()),
                    err.toString());
            assertTrue(err.toString().contains("rebuilding drive 1: 100% ("), err.toString());
            assertTrue(out.toString().startsWith("drive 1 replaced by " + replacement + " and rebuilt"), out.toString());

            assertEquals(0, client(api, "drive", "list", "--json"), err.toString());
            JsonNode list = JSON.readTree(out.toString());
            assertEquals("ok", list.get("drives").get(1).get("state").asText(), list.toString());
            assertEquals(replacement.toString(), list.get("drives").get(1).get("path").asText());
            assertEquals(100.0, list.get("rebuild").get("percent").asDouble());
            assertEquals(0, client(api, "node", "status"), err.toString());
            assertEquals("none", field("failed drives"), out.toString());
            assertTrue(field("rebuild").startsWith("rebuild of drive 1: 100.0%"), out.toString());
        }
    }

    /** A field of the output's "name: value" lines. */
    private String field(String name) {
        return out.toString().lines().filter(l -> l.startsWith(name + ":")).map(l -> l.substring(name.length() + 1).strip())
                .findFirst().orElse("");
    }

    private int client(String api, String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--api", api, "--data-dir", dataDir.toString()));
        return BasaltCli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(all.toArray(String[]::new));
    }

    private BasaltConfig config() {
        List<String> drives = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            drives.add(dataDir.resolve("d" + i + ".img").toString());
        }
        return ConfigLoader.load(List.of("--data-dir=" + dataDir, "--nvme.port=0", "--nvme.discovery-port=0",
                "--api.port=0", "--engine.drive-size=24MiB", "--engine.segment-size=2MiB",
                "--engine.drives=" + String.join(",", drives), "--engine.rebuild-bytes-per-second=16MiB"), Map.of());
    }
}
