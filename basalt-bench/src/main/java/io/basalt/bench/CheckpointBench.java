package io.basalt.bench;

import io.basalt.service.dataplane.VolumeDevice;
import io.basalt.service.engine.Engine;
import io.basalt.service.engine.EngineCounters;
import io.basalt.service.engine.EngineVolume;
import io.basalt.service.engine.IoResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a checkpoint costs as the mapped size grows (issue 9, defect 4): a volume of each size is
 * written through once with compressible blocks (so 16 GiB mapped needs only a few hundred MiB of
 * drive), then a base checkpoint (every page) is taken, then incremental ones while a probe writes
 * 4 KiB blocks at random within the volume's first 64 MiB, one at a time (the small changed set each
 * delta holds); the probe already writes while the base is taken. Per size: the base's size, the
 * writer's pause while it was captured and the longest probe write while it was taken, the largest delta and the longest pause of its
 * captures (the engine's own measure of the capture under the engine lock), the longest probe write
 * during the deltas and during a quiet window of the same length, how long a delta takes, and the
 * recovery after a clean restart (loading the chain).
 */
final class CheckpointBench {
    static final long[] DEFAULT_MAPPED = {1L << 30, 4L << 30, 16L << 30};
    static final int CHECKPOINTS = 3;
    static final String SECTION_TITLE = "## Storage engine: checkpoint cost and recovery";
    private static final int BLOCK_SIZE = 4096;
    private static final int FILL_IO_SIZE = 128 * 1024;
    private static final int FILL_DEPTH = 16;
    /** Bytes of the drive per mapped byte: a stored block of the pool takes a few dozen bytes. */
    private static final long DRIVE_DIVISOR = 64;
    /** Room besides the blocks: the log's slack, and the checkpoint chain (a base takes 14 bytes a block). */
    private static final long DRIVE_SPARE = 256L << 20;
    private static final long PROBE_TIMEOUT_SECONDS = 60;
    /**
     * The probe writes within the volume's first 64 MiB (32 map pages): the small changed set a delta
     * holds, whatever the mapped size and however fast the probe goes.
     */
    private static final long PROBE_BLOCKS = (64L << 20) / BLOCK_SIZE;

    private CheckpointBench() {
    }

    /**
     * @param baseBytes         image bytes of the base checkpoint (every page)
     * @param basePauseNanos    how long the writer stood still while the base was captured
     * @param baseProbeMaxNanos longest probe write while the base was taken (request to durable)
     * @param deltaBytes        image bytes of the largest delta taken while the probe wrote
     * @param deltaPauseNanos   longest time the writer stood still while a delta was captured
     * @param probeMaxNanos     longest probe write while the deltas ran
     * @param quietMaxNanos     longest probe write in a window without a checkpoint, as long as the deltas took
     * @param checkpointNanos   longest delta, from request to durable (capture, syncs, records written, segments freed)
     * @param recoveryMillis    recovery after a clean restart (the chain loaded, nothing replayed)
     */
    record Result(long mappedBytes, long storedBytes, double fillSeconds, long baseBytes, long basePauseNanos,
                  long baseProbeMaxNanos, long deltaBytes, long deltaPauseNanos, long probeMaxNanos, long quietMaxNanos, long probeWrites,
                  long checkpointNanos, long recoveryMillis, long driveBytes) {
        String summary() {
            return String.format(Locale.ROOT, "engine checkpoint at %d GiB mapped (%,d MiB stored, %,d MiB drive, "
                            + "filled in %.1f s): base %,d KiB, writer paused %.1f ms, longest 4 KiB write %.1f ms; delta (%,d probe writes) "
                            + "%,d KiB, writer paused %.1f ms per capture (longest of %d), checkpoint %.0f ms; "
                            + "longest 4 KiB write %.1f ms during deltas, %.1f ms without; recovery %,d ms",
                    mappedBytes >> 30, storedBytes >> 20, driveBytes >> 20, fillSeconds, baseBytes >> 10,
                    basePauseNanos / 1e6, baseProbeMaxNanos / 1e6, probeWrites, deltaBytes >> 10, deltaPauseNanos / 1e6, CHECKPOINTS,
                    checkpointNanos / 1e6, probeMaxNanos / 1e6, quietMaxNanos / 1e6, recoveryMillis);
        }

        String markdownRow() {
            return String.format(Locale.ROOT,
                    "| %d GiB (%,d blocks) | %,d | %,d | %.1f | %.1f | %,d | %.1f | %.1f | %.1f | %.0f | %,d |",
                    mappedBytes >> 30, mappedBytes / BLOCK_SIZE, storedBytes >> 20, baseBytes >> 10,
                    basePauseNanos / 1e6, baseProbeMaxNanos / 1e6, deltaBytes >> 10, deltaPauseNanos / 1e6, probeMaxNanos / 1e6,
                    quietMaxNanos / 1e6, checkpointNanos / 1e6, recoveryMillis);
        }
    }

    /** The report's section: what was measured, then one row per mapped size. */
    static String markdown(List<Result> results) {
        StringBuilder md = new StringBuilder();
        md.append(SECTION_TITLE).append("\n\n");
        md.append(String.format(Locale.ROOT, """
                The engine alone, for each mapped size a fresh engine (4 MiB segments, node defaults) and one
                compressed volume of that size written through once with 128 KiB writes of blocks that hold 16
                random bytes and zeros (LZ4 keeps a few dozen bytes of each, so the drive stays small while the
                map holds every block: 12 bytes a block in memory). Then a *base* checkpoint (every page; its
                capture freezes the pages and page directories copy-on-write under the engine lock, and the
                checkpoint thread walks them), then %d incremental checkpoints (*deltas*: the pages changed
                since the one before) one after the other, while a probe writes 4 KiB blocks at random places
                of the volume's first 64 MiB (32 map pages: the small changed set), one at a time, from before
                the base on.
                *Pause* is how long the log writer stood still for a checkpoint (its capture and the taking of
                its segments; the longest of the deltas'); the probe's longest write during the base and
                during the deltas is compared with its longest write in a window as long as the deltas
                without one. *Delta, ms* is the longest from request to durable (capture,
                drive syncs, records written, segments freed). *Recovery* is the next open after a clean
                close: the chain loaded, nothing replayed.

                """, CHECKPOINTS));
        md.append("| Mapped | Stored MiB | Base KiB | Base pause, ms | Longest 4 KiB write during base, ms | Delta KiB | Delta pause, ms "
                + "| Longest 4 KiB write during deltas, ms | without, ms | Delta, ms | Recovery, ms |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Result r : results) {
            md.append(r.markdownRow()).append('\n');
        }
        return md.toString();
    }

    /** Each mapped size on its own engine under {@code parent} (null: the system's temporary directory). */
    static List<Result> measureAll(Path parent, List<Long> sizes) throws Exception {
        List<Result> results = new ArrayList<>();
        for (long size : sizes) {
            Result r = measure(parent, size);
            System.out.println(r.summary());
            results.add(r);
        }
        return results;
    }

    /** One mapped size on a fresh engine. */
    static Result measure(Path parent, long mappedBytes) throws Exception {
        long driveBytes = mappedBytes / DRIVE_DIVISOR + DRIVE_SPARE;
        try (BenchEngine bench = BenchEngine.open(parent, driveBytes)) {
            EngineVolume volume = bench.createVolume(BLOCK_SIZE, mappedBytes, true);
            ByteBuf data = compressiblePool();
            try {
                DeviceLoad.Result fill = DeviceLoad.write(new VolumeDevice(volume, false), data, FILL_IO_SIZE,
                        FILL_DEPTH, Skew.SEQUENTIAL, mappedBytes, mappedBytes);
                if (fill.errors() > 0) {
                    throw new IllegalStateException("filling the volume failed: " + fill.errorText());
                }
                Engine engine = bench.engine();
                EngineCounters counters = engine.counters();
                try (Probe probe = new Probe(volume, data, Math.min(PROBE_BLOCKS, mappedBytes / BLOCK_SIZE))) {
                    // The fill's changes go into a delta, which outgrows the base of the empty volume: the next
                    // checkpoint is a base of every page. The probe writes throughout; its longest write while
                    // the base was taken is what a host sees of the base's capture.
                    long baseProbeMax = -1;
                    for (int i = 0; i < 3 && baseProbeMax < 0; i++) {
                        probe.window();
                        engine.checkpoint();
                        long longestWrite = probe.window();
                        if (counters.lastCheckpointBase()) {
                            baseProbeMax = longestWrite;
                        }
                    }
                    if (baseProbeMax < 0) {
                        throw new IllegalStateException("no base checkpoint was taken after the fill");
                    }
                    long baseBytes = counters.lastCheckpointBytes();
                    long basePause = counters.lastCheckpointPauseNanos();
                    long deltaPause = 0;
                    long deltaBytes = 0;
                    long longest = 0;
                    long total = 0;
                    probe.window();
                    for (int i = 0; i < CHECKPOINTS; i++) {
                        long started = System.nanoTime();
                        engine.checkpoint();
                        long took = System.nanoTime() - started;
                        if (counters.lastCheckpointBase()) {
                            throw new IllegalStateException("a checkpoint of the probe's changes was a base");
                        }
                        total += took;
                        longest = Math.max(longest, took);
                        deltaPause = Math.max(deltaPause, counters.lastCheckpointPauseNanos());
                        deltaBytes = Math.max(deltaBytes, counters.lastCheckpointBytes());
                    }
                    long during = probe.window();
                    long quiet = quietWindow(engine, probe, Math.max(1, TimeUnit.NANOSECONDS.toMillis(total)));
                    long writes = probe.stop();
                    long stored = engine.totals(volume.id()).storedBytes();
                    Engine reopened = bench.restart();
                    return new Result(mappedBytes, stored, fill.seconds(), baseBytes, basePause, baseProbeMax,
                            deltaBytes, deltaPause, during, quiet, writes, longest, reopened.recovery().millis(),
                            driveBytes);
                }
            } finally {
                data.release();
            }
        }
    }

    /**
     * The longest probe write in a window of {@code millis} in which the engine took no checkpoint of its
     * own (it takes one every 30 s while anything is written); a window that had one is tried again.
     */
    private static long quietWindow(Engine engine, Probe probe, long millis) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            long before = engine.counters().checkpoints();
            probe.window();
            Thread.sleep(millis);
            long longest = probe.window();
            if (engine.counters().checkpoints() == before || attempt == 2) {
                return longest;
            }
        }
    }

    /** {@link DataKind#POOL_BYTES} of blocks that each hold 16 random bytes and zeros: LZ4 keeps a few dozen bytes. */
    private static ByteBuf compressiblePool() {
        ByteBuf pool = Unpooled.directBuffer(DataKind.POOL_BYTES, DataKind.POOL_BYTES);
        pool.writeZero(DataKind.POOL_BYTES);
        SplittableRandom random = new SplittableRandom(1);
        for (int at = 0; at < DataKind.POOL_BYTES; at += BLOCK_SIZE) {
            pool.setLong(at, random.nextLong());
            pool.setLong(at + 8, random.nextLong());
        }
        return pool;
    }

    /**
     * Writes one 4 KiB block at a time at random places of the volume on its own thread, keeping the
     * longest write of the current window: what a host doing synchronous writes sees of a checkpoint.
     */
    private static final class Probe implements AutoCloseable {
        private final EngineVolume volume;
        private final ByteBuf data;
        private final long blocks;
        private final AtomicLong windowMax = new AtomicLong();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final Thread thread;
        private volatile boolean running = true;
        private long writes;

        Probe(EngineVolume volume, ByteBuf data, long blocks) {
            this.volume = volume;
            this.data = data;
            this.blocks = blocks;
            this.thread = Thread.ofPlatform().name("basalt-bench-probe").start(this::run);
        }

        private void run() {
            SplittableRandom random = new SplittableRandom(2);
            int poolBlocks = data.capacity() / BLOCK_SIZE;
            try {
                while (running) {
                    CompletableFuture<IoResult> done = new CompletableFuture<>();
                    ByteBuf block = data.slice(random.nextInt(poolBlocks) * BLOCK_SIZE, BLOCK_SIZE);
                    long started = System.nanoTime();
                    volume.write(random.nextLong(blocks), 1, block, false, done::complete);
                    IoResult result = done.get(PROBE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    long took = System.nanoTime() - started;
                    if (result != IoResult.OK) {
                        throw new IllegalStateException("a probe write failed: " + result);
                    }
                    windowMax.accumulateAndGet(took, Math::max);
                    writes++;
                }
            } catch (Exception e) {
                failure.set(e);
            }
        }

        /** The longest write since the last call; starts a new window. */
        long window() {
            checkFailure();
            return windowMax.getAndSet(0);
        }

        /** Stops the probe; returns how many writes it made. */
        long stop() throws InterruptedException {
            running = false;
            thread.join(TimeUnit.SECONDS.toMillis(PROBE_TIMEOUT_SECONDS + 5));
            checkFailure();
            return writes;
        }

        private void checkFailure() {
            Throwable e = failure.get();
            if (e != null) {
                throw new IllegalStateException("the probe writer failed: " + e, e);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(TimeUnit.SECONDS.toMillis(PROBE_TIMEOUT_SECONDS + 5));
        }
    }

    /** {@code basalt bench --checkpoint [--mapped SIZE]... [--engine-dir DIR]}: one line per size, then a markdown table. */
    static int run(String[] args) {
        List<Long> sizes = new ArrayList<>();
        Path dir = null;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--checkpoint" -> { }
                    case "--mapped" -> sizes.add(BenchOptions.size(BenchOptions.value(args, ++i, "--mapped"), "--mapped"));
                    case "--engine-dir" -> dir = Path.of(BenchOptions.value(args, ++i, "--engine-dir"));
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + " (with --checkpoint)");
                }
            }
            for (long size : sizes) {
                if (size < (1L << 30) || size % (1L << 30) != 0) {
                    throw new IllegalArgumentException("--mapped must be a whole number of GiB, e.g. 4g");
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("basalt bench: " + e.getMessage());
            BenchCommand.usage(System.err);
            return BenchCommand.EXIT_USAGE;
        }
        try {
            List<Result> results = measureAll(dir, sizes.isEmpty() ? defaultSizes() : sizes);
            System.out.println();
            System.out.print(markdown(results));
            return 0;
        } catch (Exception e) {
            System.err.println("basalt bench: " + BenchCommand.describe(e));
            return BenchCommand.EXIT_FAILED;
        }
    }

    static List<Long> defaultSizes() {
        return java.util.Arrays.stream(DEFAULT_MAPPED).boxed().toList();
    }
}
