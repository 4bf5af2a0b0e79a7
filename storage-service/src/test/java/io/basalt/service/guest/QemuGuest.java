package io.basalt.service.guest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

/**
 * A throw-away QEMU guest running a stock Debian kernel with a real Linux NVMe/TCP host
 * (nvme-tcp, nvme-cli, fio), for tests against the real thing.
 *
 * <p>The base guest (kernel + initramfs) comes from {@code src/test/guest/build-guest.sh}, which
 * caches it per kernel version. Each boot appends a small cpio with {@code /test.sh},
 * {@code /nvme-host-lib.sh} (the functions the test scripts share) and {@code /params} (shell {@code KEY='value'} lines; {@code HOSTNQN} and {@code HOSTID} are used by
 * the guest's /init). The guest runs under TCG (the machine's /dev/kvm cannot run a stock
 * kernel), with user networking: the guest is 10.0.2.15 and reaches the host's 127.0.0.1 as
 * 10.0.2.2. Its serial console is this object's console: read lines with {@link #awaitLine},
 * write lines with {@link #sendLine}. /init prints {@code BASALT-GUEST-EXIT <rc>} and powers off
 * when /test.sh ends.
 *
 * <p>Properties: {@code basalt.guest.qemu} (QEMU binary), {@code basalt.guest.build} (path of
 * build-guest.sh), {@code basalt.guest.echo=all} (echo every console line live; by default only
 * lines containing "BASALT-" are echoed).
 */
public final class QemuGuest implements AutoCloseable {

    public static final Pattern EXIT_MARKER = Pattern.compile("BASALT-GUEST-EXIT (\\d+)");
    private static final String DEFAULT_HOST_NQN_PREFIX = "nqn.2014-08.org.nvmexpress:uuid:";

    private final String name;
    private final Process process;
    private final Path consoleFile;
    private final Writer consoleWriter;
    private final OutputStream stdin;
    private final Thread reader;
    private final boolean echoAll = "all".equals(System.getProperty("basalt.guest.echo"));

    private final Object lock = new Object();
    private final List<String> lines = new ArrayList<>();
    private int cursor;
    private boolean eof;
    private volatile boolean closed;

    private QemuGuest(String name, Process process, Path consoleFile) throws IOException {
        this.name = name;
        this.process = process;
        this.consoleFile = consoleFile;
        this.consoleWriter = Files.newBufferedWriter(consoleFile, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        this.stdin = process.getOutputStream();
        this.reader = Thread.ofPlatform().daemon().name("qemu-console-" + name).start(this::readConsole);
        // if the test JVM is shut down before close(), do not leave QEMU behind
        this.shutdownHook = Thread.ofPlatform().unstarted(process::destroyForcibly);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    private final Thread shutdownHook;

    // ------------------------------------------------------------------------------------------
    // building and booting

    /** Options for one boot. */
    public static final class Options {
        private final String name;
        private String script;
        private final Map<String, String> params = new LinkedHashMap<>();
        private final Map<String, String> extraFiles = new LinkedHashMap<>();
        private final List<String> kernelArgs = new ArrayList<>();
        private int memoryMb = 1536;
        private int cpus = 2;
        private Path workDir;
        private String kernel = DEFAULT_KERNEL;

        private Options(String name) {
            this.name = name;
        }

        /** The guest's /test.sh (run by /sh after network and nvme-tcp are up). */
        public Options script(String text) {
            this.script = text;
            return this;
        }

        /** A line {@code KEY='value'} of /params. */
        public Options param(String key, Object value) {
            if (!key.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new IllegalArgumentException("bad parameter name " + key);
            }
            params.put(key, String.valueOf(value));
            return this;
        }

        /** Another file in the guest's root directory, e.g. "test-hooks.sh". */
        public Options file(String path, String text) {
            extraFiles.put(path, text);
            return this;
        }

        public Options kernelArg(String arg) {
            kernelArgs.add(arg);
            return this;
        }

        public Options memoryMb(int mb) {
            this.memoryMb = mb;
            return this;
        }

        public Options cpus(int n) {
            this.cpus = n;
            return this;
        }

        /** Where the per-boot initrd and the console log go; default target/guest-logs. */
        public Options workDir(Path dir) {
            this.workDir = dir;
            return this;
        }

        /** The guest's kernel package, a glob as {@link #baseGuest(String)} takes; default Debian 12's own. */
        public Options kernel(String packageGlob) {
            this.kernel = packageGlob;
            return this;
        }

        public QemuGuest boot() throws IOException, InterruptedException {
            return QemuGuest.boot(this);
        }
    }

    public static Options named(String name) {
        return new Options(name);
    }

    /** A fresh host NQN in the uuid format nvme-cli generates. */
    public static String hostNqn(String hostId) {
        return DEFAULT_HOST_NQN_PREFIX + hostId;
    }

    /** The base guest with Debian 12's own kernel (linux-image-amd64's, 6.1). */
    public static Path baseGuest() throws IOException, InterruptedException {
        return baseGuest(DEFAULT_KERNEL);
    }

    /**
     * Runs build-guest.sh (instant when cached) for the kernel package matching {@code packageGlob}
     * (for example {@link #KERNEL_6_12}; {@link #DEFAULT_KERNEL} for Debian 12's own) and returns the
     * directory with vmlinuz and initramfs.img.
     */
    public static Path baseGuest(String packageGlob) throws IOException, InterruptedException {
        synchronized (QemuGuest.class) {
            Path cached = cachedBases.get(packageGlob);
            if (cached != null) {
                return cached;
            }
            Path script = Path.of(System.getProperty("basalt.guest.build", "src/test/guest/build-guest.sh"));
            if (!Files.isRegularFile(script)) {
                throw new IllegalStateException("build-guest.sh not found at " + script.toAbsolutePath()
                        + " (run the test from the storage-service module or set -Dbasalt.guest.build)");
            }
            ProcessBuilder builder = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true);
            if (!packageGlob.equals(DEFAULT_KERNEL)) {
                builder.environment().put("BASALT_GUEST_KERNEL", packageGlob);
            }
            Process p = builder.start();
            p.getOutputStream().close();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Thread t = Thread.ofPlatform().daemon().start(() -> {
                try (InputStream in = p.getInputStream()) {
                    in.transferTo(out);
                } catch (IOException ignored) {
                    // process killed
                }
            });
            if (!p.waitFor(20, TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException("build-guest.sh did not finish within 20 minutes");
            }
            t.join(5_000);
            String text = out.toString(StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("build-guest.sh failed (rc=" + p.exitValue()
                        + "); install the tools with src/test/guest/install-deps.sh\n" + text);
            }
            Path dir = null;
            for (String line : text.split("\n")) {
                if (line.startsWith("GUEST_DIR=")) {
                    dir = Path.of(line.substring("GUEST_DIR=".length()).trim());
                }
            }
            if (dir == null || !Files.isRegularFile(dir.resolve("vmlinuz")) || !Files.isRegularFile(dir.resolve("initramfs.img"))) {
                throw new IllegalStateException("build-guest.sh gave no usable GUEST_DIR:\n" + text);
            }
            cachedBases.put(packageGlob, dir);
            return dir;
        }
    }

    /** Debian 12's own kernel: the one linux-image-amd64 depends on. */
    public static final String DEFAULT_KERNEL = "";
    /** Debian 12's 6.12 kernel, whose host has in-band authentication (CONFIG_NVME_HOST_AUTH). */
    public static final String KERNEL_6_12 = "linux-image-6.12.*+deb12-amd64-unsigned";
    private static final Map<String, Path> cachedBases = new HashMap<>();

    private static QemuGuest boot(Options o) throws IOException, InterruptedException {
        if (o.script == null) {
            throw new IllegalArgumentException("no script");
        }
        Path base = baseGuest(o.kernel);
        Path work = o.workDir != null ? o.workDir : Path.of("target", "guest-logs");
        Files.createDirectories(work);
        String stamp = o.name + "-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis();

        // per-boot cpio appended to the (512-byte padded) base initramfs
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("test.sh", o.script.getBytes(StandardCharsets.UTF_8));
        files.put("params", paramsFile(o.params).getBytes(StandardCharsets.UTF_8));
        files.put("nvme-host-lib.sh", KernelHostTest.resource("/guest/nvme-host-lib.sh").getBytes(StandardCharsets.UTF_8));
        o.extraFiles.forEach((k, v) -> files.put(k, v.getBytes(StandardCharsets.UTF_8)));
        Path initrd = work.resolve(stamp + "-initrd.img");
        try (OutputStream out = Files.newOutputStream(initrd)) {
            Files.copy(base.resolve("initramfs.img"), out);
            out.write(newcArchive(files));
        }

        String qemu = System.getProperty("basalt.guest.qemu", "qemu-system-x86_64");
        List<String> cmd = new ArrayList<>(List.of(
                qemu,
                "-accel", "tcg,thread=multi",
                "-cpu", "max",
                "-m", Integer.toString(o.memoryMb),
                "-smp", Integer.toString(o.cpus),
                "-nodefaults", "-no-user-config",
                "-display", "none",
                "-monitor", "none",
                "-serial", "stdio",
                "-no-reboot",
                "-kernel", base.resolve("vmlinuz").toString(),
                "-initrd", initrd.toString(),
                "-append", String.join(" ", kernelCmdline(o.kernelArgs)),
                "-netdev", "user,id=n0",
                "-device", "virtio-net-pci,netdev=n0"));
        Path console = work.resolve(stamp + "-console.log");
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot start " + qemu + " (install it with src/test/guest/install-deps.sh)", e);
        }
        QemuGuest guest = new QemuGuest(o.name, p, console);
        guest.note("qemu pid " + p.pid() + ", console log " + console.toAbsolutePath());
        // the initrd copy is only needed until the kernel has read it; QEMU loads it at start
        guest.cleanupLater = initrd;
        return guest;
    }

    private Path cleanupLater;

    private static List<String> kernelCmdline(List<String> extra) {
        List<String> args = new ArrayList<>(List.of("console=ttyS0", "quiet", "panic=-1"));
        args.addAll(extra);
        return args;
    }

    static String paramsFile(Map<String, String> params) {
        StringBuilder sb = new StringBuilder();
        params.forEach((k, v) -> sb.append(k).append("='").append(v.replace("'", "'\\''")).append("'\n"));
        return sb.toString();
    }

    /** A cpio archive in the "newc" format the kernel unpacks; regular files in the root directory. */
    static byte[] newcArchive(Map<String, byte[]> files) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int ino = 0x4000;
        long mtime = System.currentTimeMillis() / 1000;
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            int mode = 0100000 | (e.getKey().endsWith(".sh") ? 0755 : 0644);
            newcEntry(out, e.getKey(), mode, ino++, mtime, e.getValue());
        }
        newcEntry(out, "TRAILER!!!", 0, 0, 0, new byte[0]);
        return out.toByteArray();
    }

    private static void newcEntry(ByteArrayOutputStream out, String name, int mode, int ino, long mtime, byte[] data) {
        byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder("070701");
        long[] fields = {ino, mode, 0, 0, 1, mtime, data.length, 0, 0, 0, 0, nameBytes.length, 0};
        for (long f : fields) {
            h.append(String.format("%08x", f));
        }
        out.writeBytes(h.toString().getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(nameBytes);
        pad4(out);
        out.writeBytes(data);
        pad4(out);
    }

    private static void pad4(ByteArrayOutputStream out) {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }

    // ------------------------------------------------------------------------------------------
    // console

    private void readConsole() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try (InputStream in = process.getInputStream()) {
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (b == '\n') {
                        addLine(line.toString(StandardCharsets.UTF_8));
                        line.reset();
                    } else if (b != '\r') {
                        line.write(b);
                    }
                }
            }
        } catch (IOException ignored) {
            // QEMU gone
        } finally {
            if (line.size() > 0) {
                addLine(line.toString(StandardCharsets.UTF_8));
            }
            synchronized (lock) {
                eof = true;
                lock.notifyAll();
            }
            try {
                consoleWriter.flush();
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    private void addLine(String line) {
        synchronized (lock) {
            lines.add(line);
            lock.notifyAll();
        }
        try {
            consoleWriter.write(line);
            consoleWriter.write('\n');
            consoleWriter.flush();
        } catch (IOException ignored) {
            // the log file is a convenience
        }
        if (echoAll || line.contains("BASALT-")) {
            System.out.println("[guest " + name + "] " + line);
        }
    }

    private void note(String text) {
        System.out.println("[guest " + name + "] # " + text);
    }

    /**
     * Waits for the next console line (after the previous match) in which {@code pattern} is found,
     * and consumes the console up to it. Throws if the guest powers off or the time is up.
     */
    public MatchResult awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (true) {
                while (cursor < lines.size()) {
                    Matcher m = pattern.matcher(lines.get(cursor++));
                    if (m.find()) {
                        return m.toMatchResult();
                    }
                }
                if (eof) {
                    throw new GuestException("guest " + name + " ended (qemu " + exitDescription()
                            + ") before printing a line matching /" + pattern + "/");
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new GuestException("no console line matching /" + pattern + "/ from guest " + name
                            + " within " + timeout.toSeconds() + " s");
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
    }

    /** Waits for {@code BASALT-GUEST-EXIT <rc>} and returns rc. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        return Integer.parseInt(awaitLine(EXIT_MARKER, timeout).group(1));
    }

    /** Something the host does when the guest asks for it. */
    @FunctionalInterface
    public interface HostAction {
        void run() throws Exception;
    }

    private static final Pattern REQUEST_OR_EXIT =
            Pattern.compile("BASALT-REQUEST (\\S+)|" + EXIT_MARKER.pattern());

    /**
     * Serves the guest's requests until it exits: on {@code BASALT-REQUEST <name>} runs the action
     * for name and answers {@code go <name>} (or {@code fail <reason>} if there is no action or it
     * throws, and then rethrows). Returns the guest's exit code.
     */
    public int serveRequests(Map<String, HostAction> actions, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
            MatchResult m = awaitLine(REQUEST_OR_EXIT, left);
            if (m.group(2) != null) {
                return Integer.parseInt(m.group(2));
            }
            String request = m.group(1);
            HostAction action = actions.get(request);
            if (action == null) {
                sendLine("fail the host has no action for " + request);
                throw new GuestException("guest " + name + " asked for unknown action " + request);
            }
            note("host action: " + request);
            try {
                action.run();
            } catch (Exception | Error e) {
                sendLine("fail " + String.valueOf(e.getMessage()).replace('\n', ' '));
                throw e;
            }
            sendLine("go " + request);
        }
    }

    /**
     * Closes a test's guest and node (either may be null); if the test did not pass, first prints the
     * guest's console and the tail of the node's log, where the reason is.
     */
    static void closeAfterTest(QemuGuest guest, ServiceProcess node, boolean passed) throws InterruptedException {
        closeAfterTest(guest, node == null ? List.of() : List.of(node), passed);
    }

    /** {@link #closeAfterTest(QemuGuest, ServiceProcess, boolean)} for a test of several nodes. */
    static void closeAfterTest(QemuGuest guest, Collection<ServiceProcess> nodes, boolean passed)
            throws InterruptedException {
        if (guest != null) {
            if (!passed) {
                guest.printConsole(System.out);
            }
            guest.close();
        }
        for (ServiceProcess node : nodes) {
            if (!passed) {
                System.out.println("======== service log (tail) " + node.logFile().toAbsolutePath() + " ========");
                System.out.println(node.logTail(200));
            }
            node.close();
        }
    }

    /** The reason the guest gave for failing (BASALT-TEST-FAIL / BASALT-GUEST-ERROR lines), or null. */
    public String failureReason() {
        synchronized (lock) {
            List<String> reasons = new ArrayList<>();
            for (String l : lines) {
                int i = l.indexOf("BASALT-TEST-FAIL ");
                int j = l.indexOf("BASALT-GUEST-ERROR ");
                if (i >= 0) {
                    reasons.add(l.substring(i + "BASALT-TEST-FAIL ".length()));
                } else if (j >= 0) {
                    reasons.add(l.substring(j + "BASALT-GUEST-ERROR ".length()));
                }
            }
            return reasons.isEmpty() ? null : String.join("; ", reasons);
        }
    }

    /** Types a line on the guest's serial console (the guest script reads it with {@code read}). */
    public void sendLine(String line) {
        note("send: " + line);
        try {
            stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to guest " + name + "'s console", e);
        }
    }

    /** The whole console output so far. */
    public String consoleLog() {
        synchronized (lock) {
            return String.join("\n", lines);
        }
    }

    public Path consoleFile() {
        return consoleFile;
    }

    public void printConsole(PrintStream out) {
        out.println("======== console of guest " + name + " (" + consoleFile.toAbsolutePath() + ") ========");
        out.println(consoleLog());
        out.println("======== end of console of guest " + name + " ========");
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    private String exitDescription() {
        return process.isAlive() ? "still running" : "exit code " + process.exitValue();
    }

    /** Kills QEMU (by its PID) if it still runs, and waits for it. */
    @Override
    public void close() throws InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        if (process.isAlive()) {
            // the guest powers itself off at the end; give it a moment before pulling the plug
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
        reader.join(5_000);
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException ignored) {
            // shutting down already
        }
        try {
            stdin.close();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            consoleWriter.close();
        } catch (IOException ignored) {
            // best effort
        }
        if (cleanupLater != null) {
            try {
                Files.deleteIfExists(cleanupLater);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    /** A failure of the guest harness or of the guest. */
    public static final class GuestException extends RuntimeException {
        public GuestException(String message) {
            super(message);
        }
    }
}
