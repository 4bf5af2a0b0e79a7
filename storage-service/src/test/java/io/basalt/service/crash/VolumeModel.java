package io.basalt.service.crash;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the crash test knows about every logical block of the volume, and which contents a block may
 * hold after a crash.
 *
 * <p>Each block belongs to exactly one writer, whose operations (writes, deallocates, write zeroes)
 * are numbered by a generation that only grows; a writer never has two overlapping operations in
 * flight, so per block the order of issue is the order of execution. Per block:
 * <ul>
 * <li>{@code floor}: the highest generation issued when the block was last verified; {@code base}:
 *     what it held then (0 for zeros). Generations up to floor other than base must never come back.
 * <li>{@code issued}: the highest generation issued; {@code acked}: the highest completed successfully;
 * <li>{@code durable}: the highest generation that must survive a crash: acknowledged before a Flush
 *     that completed, or a write with FUA that completed;
 * <li>{@code lastTrim}: the highest generation that unmapped the block.
 * </ul>
 * A data generation g may be read back iff it is base (and nothing newer is durable), or a write of
 * this block with floor &lt; g &lt;= issued and g &gt;= durable. Zeros may be read back iff base is
 * zeros (and nothing newer is durable), or an unmap newer than floor and not older than durable
 * was issued.
 */
final class VolumeModel {
    final int blockSize;
    final int blocks;
    final long runId;
    final long[] floor;
    final long[] base;
    final long[] issued;
    final long[] acked;
    final long[] durable;
    final long[] lastTrim;
    final OpLog[] logs;
    private final int[] firstLba;
    private final int[] lbaCount;

    VolumeModel(int blockSize, int blocks, int writers, long runId) {
        this.blockSize = blockSize;
        this.blocks = blocks;
        this.runId = runId;
        this.floor = new long[blocks];
        this.base = new long[blocks];
        this.issued = new long[blocks];
        this.acked = new long[blocks];
        this.durable = new long[blocks];
        this.lastTrim = new long[blocks];
        this.logs = new OpLog[writers];
        this.firstLba = new int[writers];
        this.lbaCount = new int[writers];
        int per = blocks / writers;
        for (int w = 0; w < writers; w++) {
            logs[w] = new OpLog();
            firstLba[w] = w * per;
            lbaCount[w] = w == writers - 1 ? blocks - w * per : per;
        }
    }

    int firstLba(int writer) {
        return firstLba[writer];
    }

    int lbaCount(int writer) {
        return lbaCount[writer];
    }

    int owner(long lba) {
        for (int w = logs.length - 1; w >= 0; w--) {
            if (lba >= firstLba[w]) {
                return w;
            }
        }
        throw new IllegalArgumentException("lba " + lba);
    }

    /** The operations of one writer, by generation (1, 2, ...). Guarded by the writer. */
    static final class OpLog {
        private long[] start = new long[1024];
        private int[] count = new int[1024];
        private boolean[] trim = new boolean[1024];
        private long last;

        long append(long lba, int n, boolean unmap) {
            long gen = ++last;
            if (gen >= start.length) {
                int size = start.length * 2;
                start = Arrays.copyOf(start, size);
                count = Arrays.copyOf(count, size);
                trim = Arrays.copyOf(trim, size);
            }
            start[(int) gen] = lba;
            count[(int) gen] = n;
            trim[(int) gen] = unmap;
            return gen;
        }

        long last() {
            return last;
        }

        long start(long gen) {
            return start[(int) gen];
        }

        int count(long gen) {
            return count[(int) gen];
        }

        boolean isTrim(long gen) {
            return trim[(int) gen];
        }

        /** Whether generation gen was a write (not an unmap) covering lba. */
        boolean wrote(long gen, long lba) {
            return gen >= 1 && gen <= last && !trim[(int) gen] && lba >= start[(int) gen]
                    && lba < start[(int) gen] + count[(int) gen];
        }
    }

    /**
     * Checks what block {@code lba} holds after a crash; returns null if it may hold it, else why not.
     * The caller holds the owning writer's lock.
     */
    String check(int lba, BlockPattern.Content content) {
        int w = owner(lba);
        OpLog log = logs[w];
        return switch (content) {
            case BlockPattern.Bad bad -> bad.why();
            case BlockPattern.Zero zero -> {
                boolean baseOk = base[lba] == 0 && durable[lba] <= floor[lba];
                boolean trimOk = lastTrim[lba] > floor[lba] && lastTrim[lba] >= durable[lba];
                yield baseOk || trimOk ? null : "reads zeros but " + describe(lba);
            }
            case BlockPattern.Valid v -> {
                if (v.lba() != lba || v.writer() != w) {
                    yield "misplaced: holds the block of lba " + v.lba() + " generation " + v.generation() + " writer "
                            + v.writer() + "; " + describe(lba);
                }
                long g = v.generation();
                if (g == base[lba] && g != 0 && durable[lba] <= floor[lba]) {
                    yield null;
                }
                if (g <= floor[lba]) {
                    yield g == base[lba]
                            ? "holds generation " + g + " (what it held at the last check) although generation "
                                    + durable[lba] + " was flushed since (a flushed operation was lost); " + describe(lba)
                            : "holds generation " + g + ", older than what it held at the last check (" + base[lba]
                                    + "): a lost write came back; " + describe(lba);
                }
                if (g > issued[lba]) {
                    yield "holds generation " + g + " that was never issued to it; " + describe(lba);
                }
                if (!log.wrote(g, lba)) {
                    yield "holds generation " + g + ", which " + (g <= log.last() && log.isTrim(g) ? "was an unmap"
                            : "did not write this block (misdirected write)") + "; " + describe(lba);
                }
                if (g < durable[lba]) {
                    yield "holds generation " + g + ", older than the flushed generation " + durable[lba]
                            + " (a flushed write was lost); " + describe(lba);
                }
                yield null;
            }
        };
    }

    /**
     * After a graceful stop nothing acknowledged may be lost: the block must hold exactly the last
     * acknowledged operation (or base if nothing newer was acknowledged). Null if it does.
     */
    String checkExact(int lba, BlockPattern.Content content) {
        String problem = check(lba, content);
        if (problem != null) {
            return problem;
        }
        long want = acked[lba] > floor[lba] ? acked[lba] : base[lba];
        boolean wantZero = want == 0 || (acked[lba] > floor[lba] && logs[owner(lba)].isTrim(acked[lba]));
        boolean ok = content instanceof BlockPattern.Zero ? wantZero
                : content instanceof BlockPattern.Valid v && !wantZero && v.generation() == want;
        return ok ? null : "after a graceful stop it holds " + content + " but the last acknowledged operation was "
                + (wantZero ? "zeros (generation " + want + ")" : "generation " + want) + "; " + describe(lba);
    }

    /** Makes what was read the new baseline. The caller holds the owning writer's lock. */
    void rebase(int lba, BlockPattern.Content content) {
        floor[lba] = issued[lba];
        base[lba] = content instanceof BlockPattern.Valid v ? v.generation() : 0;
    }

    String describe(int lba) {
        return "block " + lba + " (writer " + owner(lba) + "): floor " + floor[lba] + " base " + base[lba] + " durable "
                + durable[lba] + " acked " + acked[lba] + " issued " + issued[lba] + " lastTrim " + lastTrim[lba];
    }

    /** Problems found in one check, the first few in full. */
    static final class Problems {
        private static final int SHOWN = 25;
        final List<String> shown = new ArrayList<>();
        int count;

        void add(String problem) {
            count++;
            if (shown.size() < SHOWN) {
                shown.add(problem);
            }
        }

        boolean isEmpty() {
            return count == 0;
        }

        @Override
        public String toString() {
            return count + " problem(s)" + (count > shown.size() ? ", the first " + shown.size() : "") + ":\n  "
                    + String.join("\n  ", shown);
        }
    }
}
