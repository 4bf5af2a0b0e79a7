package io.basalt.service.engine;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * The child JVM of {@link LargeMapRecoveryTest}: opens the engine (recovery), checks the map's totals
 * against the parent's and reads back a sample of blocks, then stops without a final checkpoint.
 * Exit code 0 when every check passed; an assertion or an error exits non-zero with its message.
 *
 * <p>Arguments: directory, node id, blocks, map id, whether the log tail was written, then the
 * parent's mapped and stored bytes of the map and of the engine.
 */
final class RecoveryChild {
    private static final int SAMPLES = 20_000;

    private RecoveryChild() {
    }

    public static void main(String[] args) {
        try {
            recover(args);
        } catch (Throwable e) {
            // The engine's threads would keep the JVM alive; the parent reads the trace from the log.
            e.printStackTrace(System.out);
            System.exit(1);
        }
        System.exit(0);
    }

    private static void recover(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        UUID node = UUID.fromString(args[1]);
        long blocks = Long.parseLong(args[2]);
        int id = Integer.parseInt(args[3]);
        boolean tail = Boolean.parseBoolean(args[4]);
        LargeMapRecoveryTest.MapUsage expected = LargeMapRecoveryTest.MapUsage.parse(args, 5);
        long started = System.nanoTime();
        Engine engine = Engine.open(LargeMapRecoveryTest.config(dir, node, blocks));
        long openMillis = (System.nanoTime() - started) / 1_000_000;
        var recovery = engine.recovery();
        System.out.printf("[recovery-child] heap max %,d MiB; open (recovery %,d ms + checkpoint) %,d ms; "
                        + "replayed %,d batches (%,d KiB); map %s%n", Runtime.getRuntime().maxMemory() >> 20,
                recovery.millis(), openMillis, recovery.replayedBatches(), recovery.replayedBytes() >> 10,
                LargeMapRecoveryTest.MapUsage.of(engine, id));
        check(recovery.fromCheckpoint(), "recovered from the checkpoint");
        if (tail) {
            check(recovery.replayedBatches() > 0, "the log tail was replayed");
        } else {
            check(recovery.replayedBatches() == 0, "nothing replayed after a clean close, not "
                    + recovery.replayedBatches() + " batches");
        }
        LargeMapRecoveryTest.MapUsage found = LargeMapRecoveryTest.MapUsage.of(engine, id);
        check(found.equals(expected), "map totals after recovery " + found + " (" + found.args()
                + ") equal the parent's " + expected + " (" + expected.args() + ")");
        long verified = verifySample(engine.volume(id).orElseThrow(), blocks, tail);
        check(engine.counters().checksumErrors() == 0, "no checksum errors");
        System.gc(); // what is left is what the recovered engine holds: mostly the maps
        Runtime runtime = Runtime.getRuntime();
        System.out.printf("[recovery-child] %,d blocks read back as written; heap in use after a GC %,d MiB%n",
                verified, (runtime.totalMemory() - runtime.freeMemory()) >> 20);
        engine.crashForTest(); // no second full checkpoint: the parent opens these drives again
    }

    /** Random blocks, the first and last, and whole tail runs when there is a tail; returns how many were read. */
    private static long verifySample(EngineVolume volume, long blocks, boolean tail) {
        SplittableRandom random = new SplittableRandom(blocks);
        long count = 0;
        for (int i = 0; i < SAMPLES; i++) {
            count += verify(volume, random.nextLong(blocks), 1, blocks, tail);
        }
        count += verify(volume, 0, 1, blocks, tail);
        count += verify(volume, blocks - 1, 1, blocks, tail);
        if (tail) {
            long stride = LargeMapRecoveryTest.tailStride(blocks);
            // Each run and the blocks either side of it, and the unmapped end with the block before it.
            for (int run = 1; run < LargeMapRecoveryTest.TAIL_RUNS; run += 97) {
                count += verify(volume, run * stride - 1, LargeMapRecoveryTest.TAIL_RUN + 2, blocks, tail);
            }
            count += verify(volume, blocks - LargeMapRecoveryTest.TAIL_UNMAPPED - 1,
                    LargeMapRecoveryTest.TAIL_UNMAPPED + 1, blocks, tail);
        }
        return count;
    }

    private static int verify(EngineVolume volume, long lba, int count, long blocks, boolean tail) {
        IoResult[] status = new IoResult[1];
        byte[] read = EngineHarness.read(volume, lba, count, status);
        check(status[0] == IoResult.OK, "read at " + lba + ": " + status[0]);
        ByteBuf expected = Unpooled.buffer(EngineHarness.BLOCK);
        for (int i = 0; i < count; i++) {
            long tag = LargeMapRecoveryTest.tagOf(lba + i, blocks, tail);
            LargeMapRecoveryTest.fill(expected, tag, lba + i, 1);
            if (tag == 0) {
                expected.setZero(0, 16);
            }
            byte[] bytes = new byte[EngineHarness.BLOCK];
            expected.getBytes(0, bytes);
            check(java.util.Arrays.equals(bytes, 0, EngineHarness.BLOCK, read, i * EngineHarness.BLOCK,
                    (i + 1) * EngineHarness.BLOCK), "block " + (lba + i) + " holds tag " + tag + ", found tag "
                    + EngineHarness.tagOf(java.util.Arrays.copyOfRange(read, i * EngineHarness.BLOCK,
                    (i + 1) * EngineHarness.BLOCK)));
        }
        return count;
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError("check failed: " + what);
        }
    }
}
