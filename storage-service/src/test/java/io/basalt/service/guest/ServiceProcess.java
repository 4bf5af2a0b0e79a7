package io.basalt.service.guest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Basalt storage node ({@code io.basalt.service.Main serve}) as a separate OS process, on
 * loopback ports chosen at test time, with a data directory that survives {@link #kill9()},
 * {@link #stop()} and {@link #restart()}.
 *
 * <p>The child runs this JVM's java with the test class path. Output goes to {@link #logFile()}
 * (appended across restarts). Its environment carries no {@code BASALT_*} variables, so only the
 * arguments given here configure it.
 *
 * <p>The volume API needs a bearer token: {@code --api.admin-token=...} among the extra arguments,
 * or else the token the node generates into {@code <data-dir>/api-admin-token}, read after every
 * start. {@link #request(String)} and {@link #send} add {@code Authorization: Bearer <token>}.
 */
public final class ServiceProcess implements AutoCloseable {

    private static final Set<Integer> RESERVED = Set.of(4420, 8009, 8470);
    private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(Long.getLong("basalt.service.startSeconds", 120));
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration TOKEN_FILE_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** Where the node keeps its generated admin token (storage-service's AdminToken). */
    public static final String ADMIN_TOKEN_FILE = "api-admin-token";
    private static final String ADMIN_TOKEN_ARG = "--api.admin-token=";

    private final Path dataDir;
    private final Path logFile;
    private final Path argFile;
    private final int nvmePort;
    private final int discoveryPort;
    private final int apiPort;
    private final List<String> extraArgs;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final String configuredToken;
    private Process process;
    private int starts;
    private volatile String token;

    private ServiceProcess(Path workDir, List<String> extraArgs) throws IOException {
        Files.createDirectories(workDir);
        this.dataDir = Files.createDirectories(workDir.resolve("data"));
        this.logFile = workDir.resolve("service.log");
        this.argFile = workDir.resolve("java-args.txt");
        int[] ports = freePorts(3);
        this.nvmePort = ports[0];
        this.discoveryPort = ports[1];
        this.apiPort = ports[2];
        this.extraArgs = List.copyOf(extraArgs);
        String configured = null;
        for (String a : extraArgs) {
            if (a.startsWith(ADMIN_TOKEN_ARG)) {
                configured = a.substring(ADMIN_TOKEN_ARG.length());
            }
        }
        this.configuredToken = configured;
    }

    /** Starts a node whose data directory and log live in {@code workDir}; waits until it is healthy. */
    public static ServiceProcess start(Path workDir, String... extraServeArgs) throws IOException, InterruptedException {
        ServiceProcess s = new ServiceProcess(workDir, List.of(extraServeArgs));
        try {
            s.start();
        } catch (IOException | InterruptedException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** Starts the process (again), with the same data directory and ports; waits until it is healthy. */
    public synchronized void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("service already running, pid " + process.pid());
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> jvmArgs = new ArrayList<>(List.of(
                "-cp", classPath,
                "-Xmx1g",
                "-XX:+ExitOnOutOfMemoryError",
                "--enable-native-access=ALL-UNNAMED", // as bin/basalt: the engine calls posix_fallocate
                "io.basalt.service.Main", "serve",
                "--data-dir", dataDir.toAbsolutePath().toString(),
                "--nvme.bind=127.0.0.1",
                "--nvme.port=" + nvmePort,
                "--nvme.discovery-port=" + discoveryPort,
                "--api.bind=127.0.0.1",
                "--api.port=" + apiPort));
        jvmArgs.addAll(extraArgs);
        // an argument file keeps a long class path off the command line
        StringBuilder sb = new StringBuilder();
        for (String a : jvmArgs) {
            sb.append('"').append(a.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n");
        }
        Files.writeString(argFile, sb.toString(), StandardCharsets.UTF_8);
        Files.writeString(logFile, "==== start #" + (++starts) + " ====\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        ProcessBuilder builder = new ProcessBuilder(java, "@" + argFile.toAbsolutePath())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        // configuration comes from the arguments only, never from the developer's environment
        builder.environment().keySet().removeIf(k -> k.startsWith("BASALT_"));
        token = null;
        process = builder.start();
        process.getOutputStream().close();
        Process started = process;
        replaceShutdownHook(Thread.ofPlatform().unstarted(started::destroyForcibly));
        System.out.println("[service] started pid " + process.pid() + " nvme=" + nvmePort + " discovery=" + discoveryPort
                + " api=" + apiPort + " log=" + logFile.toAbsolutePath());
        awaitHealthy();
        token = configuredToken != null ? configuredToken : readTokenFile();
    }

    /**
     * The generated admin token. The node writes the file before it serves the API, so it is there
     * once the node is healthy; the bounded wait only covers a slow file system.
     */
    private String readTokenFile() throws InterruptedException {
        Path file = dataDir.resolve(ADMIN_TOKEN_FILE);
        long deadline = System.nanoTime() + TOKEN_FILE_TIMEOUT.toNanos();
        String last = "no such file";
        while (System.nanoTime() < deadline) {
            try {
                String t = Files.readString(file, StandardCharsets.US_ASCII).trim();
                if (!t.isEmpty()) {
                    return t;
                }
                last = "empty file";
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("no API admin token in " + file.toAbsolutePath() + " within "
                + TOKEN_FILE_TIMEOUT.toSeconds() + " s of the node being healthy (" + last + ")\n" + logTail(40));
    }

    /** The bearer token sent on API requests. */
    public String token() {
        return token;
    }

    /** A request to {@code path} on the node's API, with the bearer token and a bounded timeout. */
    public HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(api(path)).timeout(REQUEST_TIMEOUT);
        String t = token;
        if (t != null) {
            b.header("Authorization", "Bearer " + t);
        }
        return b;
    }

    /** Sends a request made with {@link #request(String)}; the body as a string, whatever the status. */
    public HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GET {@code path}, with the token. */
    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(request(path).GET());
    }

    /** {@code method} of {@code path} with a JSON body, with the token. */
    public HttpResponse<String> sendJson(String method, String path, String jsonBody)
            throws IOException, InterruptedException {
        return send(request(path).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(jsonBody)));
    }

    /** The value of the metric {@code name} (a line {@code name value} of /metrics, no labels); fails if absent. */
    public double metric(String name) throws IOException, InterruptedException {
        HttpResponse<String> r = get("/metrics");
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET /metrics -> " + r.statusCode() + " " + r.body());
        }
        return r.body().lines().filter(line -> line.startsWith(name + " "))
                .mapToDouble(line -> Double.parseDouble(line.substring(name.length() + 1).trim())).findFirst()
                .orElseThrow(() -> new IllegalStateException(name + " is not among the node's metrics"));
    }

    private void awaitHealthy() throws InterruptedException {
        long deadline = System.nanoTime() + HEALTH_TIMEOUT.toNanos();
        URI health = api("/api/v1/health");
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("service exited with code " + process.exitValue()
                        + " before becoming healthy\n" + logTail(80));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(2)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("service not healthy within " + HEALTH_TIMEOUT.toSeconds() + " s (" + last + ")\n"
                + logTail(80));
    }

    /** SIGKILL by PID, then waits for the process to be gone. */
    public synchronized void kill9() throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        System.out.println("[service] kill -9 " + process.pid());
        process.destroyForcibly();
        if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException("service pid " + process.pid() + " survived SIGKILL");
        }
    }

    /** SIGTERM, then SIGKILL if it has not exited within a bound. */
    public synchronized void stop() throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        System.out.println("[service] stopping " + process.pid());
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            System.out.println("[service] no exit within " + STOP_TIMEOUT.toSeconds() + " s of SIGTERM, killing");
            kill9();
        }
    }

    /** Stops gracefully (if running) and starts again with the same data directory and ports. */
    public void restart() throws IOException, InterruptedException {
        stop();
        start();
    }

    /** kill -9 (if running) and starts again with the same data directory and ports. */
    public void crashAndRestart() throws IOException, InterruptedException {
        kill9();
        start();
    }

    @Override
    public synchronized void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            stop();
        }
        replaceShutdownHook(null);
    }

    private Thread shutdownHook;

    /** Keeps one hook that kills the current child if the test JVM exits before close(). */
    private void replaceShutdownHook(Thread hook) {
        try {
            if (shutdownHook != null) {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            }
            if (hook != null) {
                Runtime.getRuntime().addShutdownHook(hook);
            }
            shutdownHook = hook;
        } catch (IllegalStateException ignored) {
            // the JVM is shutting down already
        }
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    public long pid() {
        return process == null ? -1 : process.pid();
    }

    public URI api(String path) {
        return URI.create("http://127.0.0.1:" + apiPort + path);
    }

    public int nvmePort() {
        return nvmePort;
    }

    public int discoveryPort() {
        return discoveryPort;
    }

    public int apiPort() {
        return apiPort;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return logFile;
    }

    /** The last {@code n} lines of the log. */
    public String logTail(int n) {
        try {
            if (!Files.exists(logFile)) {
                return "(no service log)";
            }
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    /** Distinct free TCP ports on 127.0.0.1, never Basalt's defaults (a developer may run a node). */
    static int[] freePorts(int count) throws IOException {
        Set<Integer> seen = new HashSet<>();
        int[] ports = new int[count];
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0, attempts = 0; i < count; attempts++) {
                if (attempts > 200) {
                    throw new IOException("cannot find " + count + " free ports");
                }
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(s);
                int p = s.getLocalPort();
                if (!RESERVED.contains(p) && seen.add(p)) {
                    ports[i++] = p;
                }
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        return ports;
    }

    /** Removes a data directory between runs, as far as it can. */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
