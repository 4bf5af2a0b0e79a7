package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.Commands;
import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvmet.ResourceLimits;
import io.basalt.nvmetcp.nvmet.TargetOptions;
import io.basalt.nvmetcp.pdu.Pdu;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.LeakReports;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.internal.PlatformDependent;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static io.basalt.nvmetcp.nvme.Status.SUCCESS;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A mutation fuzzer of the target over real sockets (issue 10, "Fuzzing in the suite"): at least
 * {@value #DEFAULT_CASES} cases per run (property {@code basalt.fuzz.cases}), each a command with
 * mutated fields on a connected queue, or a stream of mutated PDUs (headers, lengths, offsets,
 * SGLs, digests, truncated and split) on a new connection. Netty's leak detector runs at PARANOID.
 * After each batch a well-behaved host must read back its pattern, no leak and no ERROR (an
 * exception that escaped the target's handling) may have been reported, the target must hold no
 * data bytes once the fuzzing connections are gone, and direct memory must be back near its
 * baseline.
 * <p>
 * Every case is a function of its seed: the run's seed is printed, and the seeds of a failing batch
 * are written to {@code target/fuzz-failures/}. {@code -Dbasalt.fuzz.seed=S -Dbasalt.fuzz.first=N
 * -Dbasalt.fuzz.cases=M} replays cases N..N+M-1 of run S.
 */
class TargetFuzzTest {
    static final int DEFAULT_CASES = 100_000;
    private static final int BATCH = 5_000;
    /** Framing cases open a connection each; the rest reuse a connected pair of queues. */
    private static final int FRAMING_PERCENT = 8;
    private static final int PATTERN_BLOCKS = 64;
    private static final int ANSWER_TIMEOUT_MILLIS = 5_000;
    /** Pooled chunks stay with the allocator once made: allow a few, not growth with the cases. */
    private static final long DIRECT_MEMORY_SLACK = 64L << 20;
    private static final Path FAILURES = Path.of("target", "fuzz-failures");

    @Test
    void mutatedStreamsNeitherCrashNorLeakNorDisturbAnotherHost() throws Exception {
        long seed = Long.getLong("basalt.fuzz.seed", System.nanoTime());
        int first = Integer.getInteger("basalt.fuzz.first", 0);
        int cases = Integer.getInteger("basalt.fuzz.cases", DEFAULT_CASES);
        System.out.println("TargetFuzzTest: seed " + seed + ", cases " + first + ".." + (first + cases - 1));
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        LogWatch logs = LogWatch.install();
        LoggerFactory.getLogger(TargetFuzzTest.class).error("log watch self-check");
        assertEquals(1, logs.drainErrors().size(), "the target's ERROR lines must be seen");
        ResourceLimits limits = new ResourceLimits(4 << 20, 64 << 20, 64, 256, 2_000, 1_000);
        try (LiveTarget live = LiveTarget.start(TargetOptions.defaults(LiveTarget.SERIAL).withLimits(limits))) {
            HostController good = live.connect(LiveTarget.hostOptions());
            byte[] pattern = writePattern(good);
            int leaksBefore = LeakReports.count();
            long memoryBefore = PlatformDependent.usedDirectMemory();
            Fuzzer fuzzer = new Fuzzer(live.port);
            try {
                for (int batch = first; batch < first + cases; batch += BATCH) {
                    int end = Math.min(first + cases, batch + BATCH);
                    for (int i = batch; i < end; i++) {
                        fuzzer.run(seed, i);
                    }
                    fuzzer.closeSession();
                    checkBatch(live, good, pattern, logs, leaksBefore, memoryBefore, fuzzer, seed, batch, end);
                }
            } finally {
                fuzzer.closeSession();
            }
            System.out.println("TargetFuzzTest: " + fuzzer.counts());
        } finally {
            logs.uninstall();
            ResourceLeakDetector.setLevel(level);
        }
    }

    private static byte[] writePattern(HostController good) {
        byte[] pattern = new byte[PATTERN_BLOCKS * 512];
        new Random(5).nextBytes(pattern);
        ByteBuf src = PooledByteBufAllocator.DEFAULT.directBuffer(pattern.length).writeBytes(pattern);
        IoResult written = new IoResult();
        good.write(1, 0, PATTERN_BLOCKS, src, false, written);
        assertEquals(SUCCESS, written.status());
        src.release();
        return pattern;
    }

    private static void checkBatch(LiveTarget live, HostController good, byte[] pattern, LogWatch logs, int leaksBefore,
                                   long memoryBefore, Fuzzer fuzzer, long seed, int first, int end) throws IOException, InterruptedException {
        List<String> problems = new ArrayList<>(fuzzer.drainHangs());
        ByteBuf dst = PooledByteBufAllocator.DEFAULT.directBuffer(pattern.length);
        try {
            IoResult read = new IoResult();
            good.read(1, 0, PATTERN_BLOCKS, dst, read);
            if (read.status() != SUCCESS || !java.util.Arrays.equals(pattern, ByteBufUtil.getBytes(dst))) {
                problems.add("the well-behaved host did not read its pattern back (status " + read.status() + ")");
            }
        } finally {
            dst.release();
        }
        int goodConnections = 1 + good.ioQueueCount();
        try {
            LiveTarget.eventually("the fuzzing connections are gone", () -> live.target.connectionCount() == goodConnections
                    && live.target.dataBytesInUse() == 0);
        } catch (AssertionError e) {
            problems.add(e.getMessage() + ": " + live.target.connectionCount() + " connections, "
                    + live.target.dataBytesInUse() + " data bytes held");
        }
        int leaks = LeakReports.count() - leaksBefore;
        if (leaks > 0) {
            problems.add(leaks + " buffer leaks reported");
        }
        long grown = PlatformDependent.usedDirectMemory() - memoryBefore;
        if (grown > DIRECT_MEMORY_SLACK) {
            problems.add("direct memory grew by " + grown + " bytes");
        }
        problems.addAll(logs.drainErrors());
        if (!problems.isEmpty()) {
            Files.createDirectories(FAILURES);
            Path file = FAILURES.resolve("seed-" + seed + "-cases-" + first + "-" + (end - 1) + ".txt");
            Files.writeString(file, "replay: -Dbasalt.fuzz.seed=" + seed + " -Dbasalt.fuzz.first=" + first
                    + " -Dbasalt.fuzz.cases=" + (end - first) + "\n" + String.join("\n", problems) + "\n");
            throw new AssertionError("fuzz cases " + first + ".." + (end - 1) + " of seed " + seed + " (saved in "
                    + file.toAbsolutePath() + "):\n" + String.join("\n", problems));
        }
    }

    /** Generates and runs cases; keeps one connected admin and I/O queue pair between command cases. */
    private static final class Fuzzer {
        private final int port;
        private final List<String> hangs = new ArrayList<>();
        private final int[] outcomes = new int[Outcome.values().length];
        private RawQueue admin;
        private RawQueue io;
        private int nextCid;

        Fuzzer(int port) {
            this.port = port;
        }

        void run(long seed, int index) throws IOException {
            Random random = new Random(seed * 0x9E3779B97F4A7C15L + index);
            Outcome outcome;
            if (random.nextInt(100) < FRAMING_PERCENT) {
                outcome = framing(random);
            } else {
                if (io == null) {
                    openSession();
                }
                boolean onAdmin = random.nextInt(4) == 0;
                RawQueue queue = onAdmin ? admin : io;
                int cid = nextCid++ & 0xFFFF;
                outcome = exchange(queue, onAdmin ? adminCommand(random, cid) : ioCommand(random, cid), cid, random);
                if (outcome != Outcome.COMPLETED) {
                    closeSession();
                }
            }
            outcomes[outcome.ordinal()]++;
            if (outcome == Outcome.HUNG) {
                hangs.add("case " + index + ": no answer and no close within " + ANSWER_TIMEOUT_MILLIS + " ms");
            }
        }

        List<String> drainHangs() {
            List<String> drained = List.copyOf(hangs);
            hangs.clear();
            return drained;
        }

        String counts() {
            StringBuilder s = new StringBuilder();
            for (Outcome o : Outcome.values()) {
                s.append(o).append('=').append(outcomes[o.ordinal()]).append(' ');
            }
            return s.toString().trim();
        }

        private void openSession() throws IOException {
            admin = new RawQueue(port);
            admin.socket().setSoTimeout(ANSWER_TIMEOUT_MILLIS);
            admin.send(RawQueue.icReq());
            admin.receive();
            ByteBuf connect = Commands.connect(0, 32, 0, false);
            connect.setShortLE(Sqe.CID, 0xFFFE);
            admin.send(RawQueue.capsule(inCapsule(connect, connectData(0xFFFF)), connectData(0xFFFF)));
            connect.release();
            ByteBuffer resp = admin.receive();
            int cntlid = resp.getShort(8) & 0xFFFF;
            ByteBuf enable = Commands.propertySet(Opcodes.PROP_CC, 0x00460001, false);
            enable.setShortLE(Sqe.CID, 0xFFFD);
            admin.send(RawQueue.capsule(enable, null));
            enable.release();
            admin.receive();
            io = new RawQueue(port);
            io.socket().setSoTimeout(ANSWER_TIMEOUT_MILLIS);
            int status = io.connectIo(LiveTarget.SUBNQN, LiveTarget.OTHER_HOST, HOST_ID, cntlid, 1, 64);
            if (status != SUCCESS) {
                throw new IOException("the fuzzing session's I/O queue was refused: status 0x" + Integer.toHexString(status));
            }
        }

        void closeSession() throws IOException {
            if (io != null) {
                io.close();
                io = null;
            }
            if (admin != null) {
                admin.close();
                admin = null;
            }
        }

        /** Sends one capsule and answers the target until its completion, a termination or a close. */
        private Outcome exchange(RawQueue queue, byte[] capsule, int cid, Random random) throws IOException {
            try {
                queue.send(capsule);
                while (true) {
                    ByteBuffer pdu = queue.receive();
                    switch (pdu.get(Pdu.TYPE)) {
                        case Pdu.CAPSULE_RESP -> {
                            if ((pdu.getShort(20) & 0xFFFF) == cid) {
                                return Outcome.COMPLETED;
                            }
                        }
                        case Pdu.C2H_DATA -> {
                            if ((pdu.get(Pdu.FLAGS) & Pdu.FLAG_DATA_SUCCESS) != 0) {
                                return Outcome.COMPLETED;
                            }
                        }
                        case Pdu.R2T -> queue.send(h2cData(pdu, random));
                        case Pdu.C2H_TERM_REQ -> {
                            return Outcome.TERMINATED;
                        }
                        default -> {
                            return Outcome.TERMINATED;
                        }
                    }
                }
            } catch (SocketTimeoutException e) {
                return Outcome.HUNG;
            } catch (IOException e) {
                return Outcome.CLOSED;
            }
        }

        /** Valid ICReq and Connect, then mutated PDUs, sent in pieces; then the host closes its side. */
        private Outcome framing(Random random) throws IOException {
            ByteBuffer stream = ByteBuffer.allocate(64 * 1024);
            byte[] ic = RawQueue.icReq();
            if (random.nextInt(4) == 0) {
                ic[Pdu.IC_DIGEST] = (byte) random.nextInt(4);
                ic[Pdu.IC_PDA] = (byte) random.nextInt(40);
            }
            stream.put(ic);
            if (random.nextInt(5) != 0) {
                ByteBuf connect = Commands.connect(0, 32, 0, false);
                byte[] data = connectData(0xFFFF);
                stream.put(RawQueue.capsule(inCapsule(connect, data), data));
                connect.release();
            }
            for (int n = random.nextInt(4); n > 0; n--) {
                byte[] pdu = switch (random.nextInt(4)) {
                    case 0 -> adminCommand(random, random.nextInt(0x10000));
                    case 1 -> ioCommand(random, random.nextInt(0x10000));
                    case 2 -> randomH2cData(random);
                    default -> randomBytes(random, 8 + random.nextInt(200));
                };
                if (stream.remaining() < pdu.length) {
                    break;
                }
                stream.put(pdu);
            }
            byte[] bytes = java.util.Arrays.copyOf(stream.array(), stream.position());
            mutate(bytes, random);
            int length = random.nextInt(10) == 0 ? random.nextInt(bytes.length + 1) : bytes.length;
            try (RawQueue raw = new RawQueue(port)) {
                raw.socket().setSoTimeout(ANSWER_TIMEOUT_MILLIS);
                int sent = 0;
                while (sent < length) {
                    int piece = Math.min(length - sent, 1 + random.nextInt(Math.max(1, length)));
                    raw.sendRange(bytes, sent, piece);
                    sent += piece;
                }
                raw.socket().shutdownOutput();
                raw.drainUntilClosed();
                return Outcome.FRAMED;
            } catch (SocketTimeoutException e) {
                return Outcome.HUNG;
            } catch (IOException e) {
                return Outcome.CLOSED;
            }
        }

        private static void mutate(byte[] bytes, Random random) {
            int flips = random.nextInt(5);
            for (int i = 0; i < flips && bytes.length > 0; i++) {
                int at = random.nextInt(Math.min(bytes.length, random.nextBoolean() ? 200 : bytes.length));
                bytes[at] = switch (random.nextInt(4)) {
                    case 0 -> (byte) random.nextInt(256);
                    case 1 -> (byte) (bytes[at] ^ (1 << random.nextInt(8)));
                    case 2 -> 0;
                    default -> (byte) 0xFF;
                };
            }
        }
    }

    private enum Outcome { COMPLETED, TERMINATED, CLOSED, FRAMED, HUNG }

    private static final UUID HOST_ID = UUID.fromString("f0220000-0000-4000-8000-00000000f022");

    private static byte[] connectData(int cntlid) {
        ByteBuf data = Commands.connectData(HOST_ID, cntlid, LiveTarget.SUBNQN, LiveTarget.OTHER_HOST);
        byte[] bytes = ByteBufUtil.getBytes(data);
        data.release();
        return bytes;
    }

    private static ByteBuf inCapsule(ByteBuf sqe, byte[] data) {
        sqe.setByte(Sqe.FLAGS, 0x40);
        sqe.setByte(Sqe.SGL_TYPE, Sqe.SGL_INCAPSULE);
        sqe.setIntLE(Sqe.SGL_LENGTH, data.length);
        return sqe;
    }

    /** An I/O command capsule for namespace 2 (the fuzzing host's) or another, with mutated fields. */
    private static byte[] ioCommand(Random random, int cid) {
        int[] opcodes = {Opcodes.IO_READ, Opcodes.IO_WRITE, Opcodes.IO_FLUSH, Opcodes.IO_WRITE_ZEROES,
                Opcodes.IO_DATASET_MANAGEMENT, random.nextInt(256)};
        int opcode = opcodes[random.nextInt(opcodes.length)];
        int[] nsids = {2, 2, 2, 1, 0, 3, -1, random.nextInt()};
        long[] lbas = {0, random.nextInt(LiveTarget.NS2_BLOCKS), LiveTarget.NS2_BLOCKS - 1, LiveTarget.NS2_BLOCKS,
                random.nextLong(), Long.MAX_VALUE};
        int blocks = random.nextInt(8) == 0 ? random.nextInt(0x10000) : 1 + random.nextInt(8);
        ByteBuf sqe = Commands.newSqe(opcode);
        Commands.readWrite(sqe, opcode, nsids[random.nextInt(nsids.length)],
                lbas[random.nextInt(lbas.length)], blocks, random.nextBoolean());
        sqe.setShortLE(Sqe.CID, cid);
        sqe.setByte(Sqe.FLAGS, random.nextInt(10) == 0 ? random.nextInt(256) : 0x40);
        int natural = blocks * 4096;
        byte[] data = null;
        if (opcode == Opcodes.IO_DATASET_MANAGEMENT) {
            sqe.setIntLE(Sqe.CDW10, random.nextInt(4));
            sqe.setIntLE(Sqe.CDW11, random.nextBoolean() ? 4 : random.nextInt());
            data = randomBytes(random, 16 * (1 + random.nextInt(4)));
        } else if (opcode == Opcodes.IO_WRITE && natural <= 8192 && random.nextBoolean()) {
            data = randomBytes(random, natural);
        }
        if (data != null && random.nextInt(8) != 0) {
            sqe.setByte(Sqe.SGL_TYPE, Sqe.SGL_INCAPSULE);
            sqe.setIntLE(Sqe.SGL_LENGTH, random.nextInt(8) == 0 ? random.nextInt() : data.length);
        } else {
            data = null;
            sqe.setByte(Sqe.SGL_TYPE, random.nextInt(10) == 0 ? random.nextInt(256) : Sqe.SGL_TRANSPORT);
            int[] lengths = {natural, natural, 0, natural + 512, 4096, random.nextInt(2 << 20), random.nextInt()};
            sqe.setIntLE(Sqe.SGL_LENGTH, lengths[random.nextInt(lengths.length)]);
            if (random.nextInt(20) == 0) {
                sqe.setLongLE(Sqe.SGL_ADDRESS, random.nextLong());
            }
        }
        flipSqe(sqe, random);
        byte[] capsule = RawQueue.capsule(sqe, data);
        sqe.release();
        return capsule;
    }

    /** An admin or fabrics command (no Asynchronous Event Request: it is answered only by an event). */
    private static byte[] adminCommand(Random random, int cid) {
        int[] opcodes = {Opcodes.ADMIN_IDENTIFY, Opcodes.ADMIN_GET_LOG_PAGE, Opcodes.ADMIN_SET_FEATURES,
                Opcodes.ADMIN_GET_FEATURES, Opcodes.ADMIN_KEEP_ALIVE, Opcodes.ADMIN_ABORT, Opcodes.FABRICS,
                random.nextInt(256)};
        int opcode = opcodes[random.nextInt(opcodes.length)];
        if (opcode == Opcodes.ADMIN_ASYNC_EVENT_REQUEST) {
            opcode = Opcodes.ADMIN_KEEP_ALIVE;
        }
        ByteBuf sqe = Commands.newSqe(opcode);
        sqe.setShortLE(Sqe.CID, cid);
        sqe.setByte(Sqe.FLAGS, 0x40);
        sqe.setIntLE(Sqe.NSID, random.nextInt(4) == 0 ? random.nextInt() : random.nextInt(4));
        for (int dw = Sqe.CDW10; dw <= Sqe.CDW15; dw += 4) {
            sqe.setIntLE(dw, random.nextInt(3) == 0 ? random.nextInt() : random.nextInt(16));
        }
        if (opcode == Opcodes.FABRICS) {
            int[] fctypes = {Opcodes.FCTYPE_PROPERTY_GET, Opcodes.FCTYPE_PROPERTY_SET, Opcodes.FCTYPE_CONNECT,
                    Opcodes.FCTYPE_DISCONNECT, random.nextInt(256)};
            sqe.setByte(Sqe.FCTYPE, fctypes[random.nextInt(fctypes.length)]);
            int[] properties = {Opcodes.PROP_CAP, Opcodes.PROP_VS, Opcodes.PROP_CSTS, random.nextInt()};
            sqe.setIntLE(Sqe.CDW11, properties[random.nextInt(properties.length)]); // CC stays as the session set it
        }
        if (opcode == Opcodes.ADMIN_SET_FEATURES && (sqe.getIntLE(Sqe.CDW10) & 0xFF) == 0x0F) {
            sqe.setIntLE(Sqe.CDW10, 0x06); // not the keep alive timer: the session sends no Keep Alive of its own
        }
        sqe.setByte(Sqe.SGL_TYPE, random.nextInt(10) == 0 ? random.nextInt(256) : Sqe.SGL_TRANSPORT);
        int[] lengths = {4096, 4096, 512, 0, 1024, random.nextInt(1 << 20), random.nextInt()};
        int length = lengths[random.nextInt(lengths.length)];
        sqe.setIntLE(Sqe.SGL_LENGTH, length);
        if (opcode == Opcodes.ADMIN_GET_LOG_PAGE && random.nextBoolean()) {
            int[] pages = {Opcodes.LOG_ERROR, Opcodes.LOG_SMART, Opcodes.LOG_FIRMWARE_SLOT, Opcodes.LOG_CHANGED_NAMESPACES,
                    Opcodes.LOG_ANA, Opcodes.LOG_DISCOVERY, random.nextInt(256)};
            int numd = length / 4 - 1; // a length that matches the transfer, so that the page is built
            sqe.setIntLE(Sqe.CDW10, pages[random.nextInt(pages.length)] | (random.nextInt(4) << 8) | numd << 16);
            sqe.setIntLE(Sqe.CDW11, numd >>> 16);
            long[] offsets = {0, 4, 512, 4096, 1L << 63, 0xFFFF_FFFCL, random.nextLong()};
            sqe.setLongLE(Sqe.CDW12, offsets[random.nextInt(offsets.length)]);
        }
        flipSqe(sqe, random);
        if (sqe.getUnsignedByte(Sqe.OPCODE) == Opcodes.ADMIN_ASYNC_EVENT_REQUEST) {
            // A flipped bit can make any command an Asynchronous Event Request, which rightly gets no
            // answer until an event happens: its silence is the protocol, not a hang.
            sqe.setByte(Sqe.OPCODE, Opcodes.ADMIN_KEEP_ALIVE);
        }
        byte[] capsule = RawQueue.capsule(sqe, null);
        sqe.release();
        return capsule;
    }

    /** Sometimes flips a byte of the entry, but not its CID (the fuzzer waits for that completion). */
    private static void flipSqe(ByteBuf sqe, Random random) {
        if (random.nextInt(4) == 0) {
            int at = random.nextInt(Sqe.SIZE - 2);
            at = at >= Sqe.CID ? at + 2 : at;
            sqe.setByte(at, random.nextInt(256));
        }
    }

    /** The data an R2T asks for, or (sometimes) a mutation of it: other offset, length, tag or size. */
    private static byte[] h2cData(ByteBuffer r2t, Random random) {
        int cid = r2t.getShort(Pdu.DATA_CCCID) & 0xFFFF;
        int ttag = r2t.getShort(Pdu.DATA_TTAG) & 0xFFFF;
        int offset = r2t.getInt(Pdu.DATA_OFFSET);
        int length = r2t.getInt(Pdu.DATA_LENGTH);
        int chunk = Math.max(1, Math.min(length, 128 * 1024));
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        for (int at = 0; at < length; at += chunk) {
            int n = Math.min(chunk, length - at);
            byte[] pdu = dataPdu(cid, ttag, offset + at, n, at + n == length);
            if (random.nextInt(40) == 0) {
                int field = 8 + 2 * random.nextInt(8);
                pdu[field] = (byte) random.nextInt(256);
            }
            all.writeBytes(pdu);
        }
        return all.toByteArray();
    }

    private static byte[] randomH2cData(Random random) {
        return dataPdu(random.nextInt(0x10000), random.nextInt(64), random.nextInt(8192), 1 + random.nextInt(4096),
                random.nextBoolean());
    }

    private static byte[] dataPdu(int cid, int ttag, int offset, int length, boolean last) {
        ByteBuffer b = ByteBuffer.allocate(Pdu.DATA_HEADER_LENGTH + length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) Pdu.H2C_DATA).put(1, (byte) (last ? Pdu.FLAG_DATA_LAST : 0))
                .put(2, (byte) Pdu.DATA_HEADER_LENGTH).put(3, (byte) Pdu.DATA_HEADER_LENGTH)
                .putInt(4, Pdu.DATA_HEADER_LENGTH + length)
                .putShort(Pdu.DATA_CCCID, (short) cid).putShort(Pdu.DATA_TTAG, (short) ttag)
                .putInt(Pdu.DATA_OFFSET, offset).putInt(Pdu.DATA_LENGTH, length);
        return b.array();
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    /**
     * Watches what the target logs while the fuzzer runs: lines at ERROR (an exception that escaped
     * the target's handling, or one it caught as a defect) and Netty's own complaints count as
     * failures; the WARN and INFO lines of tens of thousands of refused connections are dropped.
     */
    private static final class LogWatch extends OutputStream {
        private final PrintStream original;
        private final List<String> errors = new ArrayList<>();
        private final StringBuilder line = new StringBuilder();
        private final PrintStream originalErr;

        private LogWatch(PrintStream out, PrintStream err) {
            this.original = out;
            this.originalErr = err;
        }

        static LogWatch install() {
            LogWatch watch = new LogWatch(System.out, System.err);
            PrintStream tee = new PrintStream(watch, true, StandardCharsets.UTF_8);
            System.setOut(tee);
            System.setErr(tee);
            return watch;
        }

        void uninstall() {
            System.setOut(original);
            System.setErr(originalErr);
        }

        @Override
        public synchronized void write(int b) {
            if (b != '\n') {
                line.append((char) b);
                return;
            }
            String text = line.toString();
            line.setLength(0);
            boolean quiet = text.contains("] WARN io.basalt.nvmetcp") || text.contains("] INFO io.basalt.nvmetcp");
            if (text.contains("] ERROR ") || text.contains("LEAK:") || text.contains("reached at the tail of the pipeline")
                    || text.contains("Unexpected exception")) {
                errors.add(text);
            }
            if (!quiet) {
                original.println(text);
            }
        }

        synchronized List<String> drainErrors() {
            List<String> drained = List.copyOf(errors);
            errors.clear();
            return drained;
        }
    }
}
