package io.basalt.attach;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Basalt storage node run from storage-service's build output (built earlier in the reactor),
 * on free loopback ports that its ready line names.
 */
final class BasaltNodeProcess implements AutoCloseable {
    private static final Path SERVICE_TARGET = Path.of("..", "storage-service", "target").toAbsolutePath().normalize();
    private static final Pattern READY = Pattern.compile("Basalt ready: nvme=127\\.0\\.0\\.1:(\\d+) .* api=(\\S+)");

    private final Process process;
    final int nvmePort;
    final String apiUrl;
    /** The admin token the node generated into its data directory. */
    final Path tokenFile;
    final String token;

    private BasaltNodeProcess(Process process, int nvmePort, String apiUrl, Path tokenFile) throws IOException {
        this.process = process;
        this.nvmePort = nvmePort;
        this.apiUrl = apiUrl;
        this.tokenFile = tokenFile;
        this.token = Files.readString(tokenFile).trim();
    }

    static BasaltNodeProcess start(Path workDir) throws IOException, InterruptedException {
        if (!Files.isDirectory(SERVICE_TARGET.resolve("classes")) || !Files.isDirectory(SERVICE_TARGET.resolve("lib"))) {
            throw new IllegalStateException("build storage-service first (mvn -pl storage-service -am package): no " + SERVICE_TARGET);
        }
        Path log = workDir.resolve("node.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", SERVICE_TARGET.resolve("classes") + ":" + SERVICE_TARGET.resolve("lib") + "/*",
                "io.basalt.service.Main", "serve", "--data-dir", workDir.resolve("data").toString(),
                "--nvme.port=0", "--nvme.discovery-port=0", "--api.port=0", "--engine.drive-size=1GiB")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Instant deadline = Instant.now().plusSeconds(120);
        while (true) {
            Matcher m = READY.matcher(Files.exists(log) ? Files.readString(log) : "");
            if (m.find()) {
                return new BasaltNodeProcess(p, Integer.parseInt(m.group(1)), m.group(2),
                        workDir.resolve("data").resolve("api-admin-token"));
            }
            if (!p.isAlive() || Instant.now().isAfter(deadline)) {
                p.destroyForcibly();
                throw new IllegalStateException("the Basalt node did not start; see " + log);
            }
            Thread.sleep(200);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
