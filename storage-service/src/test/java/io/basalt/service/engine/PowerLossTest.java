package io.basalt.service.engine;

import io.basalt.service.engine.ec.ErasureCode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

import static io.basalt.service.engine.EngineHarness.BLOCK;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Power cuts against a model. Each cycle opens the engine on {@link PowerLossMedia} (sometimes with
 * the power failing during recovery), checks every map against the model, runs random operations
 * (writes, FUA writes, unmaps, flushes, volume creation, snapshots, snapshots of several volumes at
 * once, clones, deletes, garbage collection, checkpoints) until the power fails at a random drive write, sync or checkpoint replace
 * (or a sync fails once, as a writeback error), and cuts the power. The model holds, per block, the
 * version known durable (acknowledged by a completed Flush, written with FUA, or followed by a
 * completed map change or checkpoint, which sync the drives) and every version written after it; a
 * block must read back exactly one of those, whole. A snapshot of several volumes at once must come
 * back after a cut during it with all of its snapshots or none: with its entries written as one
 * batch each (a sync between them), a run of 10 × 200 cycles failed at cycle 69 of its first run
 * ("maps [62, 63] appeared; the map change under way creates 3 at once, all or none").
 *
 * <p>Replay a failing run: {@code mvn -pl storage-service -am test -Dtest=PowerLossTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dbasalt.powerloss.seed=SEED -Dbasalt.powerloss.runs=1}
 * with the seed the failure names. Garbage collection and checkpoints run on the engine's threads,
 * so a replay takes the same operations and cut points but may interleave them differently.
 *
 * <p>Shown to catch each of defects 1-3 of issue 9 with its fix reverted (2026-12-01, the suite's 10 runs of
 * 200 cycles; each failed in the first run, replayable with the run seed given):
 * <ul>
 * <li>defect 1, sequence numbers reused after recovery, with the whole fix reverted: the writer going on
 * after the last replayed batch, the batches after the end of the log not erased, and no checkpoint
 * before the first new write: run seed 15481231950747, cycle 22, "the engine has maps [16, 17, 18, 19, 8],
 * the model [8, 17, 18, 19, 21, 22]" (a second recovery scanned the tail the first one had dropped, applied
 * a stale batch over the new one of the same number, and a deleted map came back while acknowledged ones
 * were lost). With the checkpoint before the first new write kept, 2,000 cycles passed: the dropped tail
 * then lies in segments that checkpoint records as sealed, which a recovery from a checkpoint does not
 * scan; a full scan does, and {@link #recoversByAFullScanWhenTheCheckpointsAreLost} fails on that
 * (run seed 16105204551986, cycle 4, maps acknowledged as created missing).</li>
 * <li>defect 2, only the last replayed batch's payload checked: run seed 15631615523532, cycle 42, a
 * read of a map failed with MEDIA_ERROR (a flushed block replayed although its payload was lost).</li>
 * <li>defect 3, a failed sync not fatal ({@code LogWriter.failStop} not recording the failure): run seed
 * 15695526222587, cycle 15, "the engine has maps [2, 5, 10, 11, 12], the model [2, 5, 10, 11, 13, 14]"
 * (map changes acknowledged after the failed sync were lost).</li>
 * </ul>
 */
class PowerLossTest {
    private static final int SEGMENT = 2 << 20;
    /** Two drives: the log alternates between them, so segments are not reused in the order they were written. */
    private static final long DRIVE_BYTES = (1 << 20) + 8L * SEGMENT;
    private static final int VOLUME_BLOCKS = 96;
    private static final int MAX_MAPS = 6;
    private static final int CYCLES_PER_RUN = 200;
    private static final List<Path> DRIVES = List.of(Path.of("sim", "drive0"), Path.of("sim", "drive1"));
    /** Three drives erasure-coded 2+1: every segment a stripe across all three. */
    private static final List<Path> EC_DRIVES = List.of(Path.of("sim", "drive0"), Path.of("sim", "drive1"),
            Path.of("sim", "drive2"));

    @Test
    void acknowledgedDataSurvivesPowerCutsAnywhere() throws Exception {
        cutsAgainstTheModel(DRIVES, ErasureCode.NONE, Integer.getInteger("basalt.powerloss.runs", 10), false);
    }

    /**
     * The same on an erasure-coded node: a cut at a random drive write falls inside a stripe's write
     * (some of its chunks written, the rest not) for 2 of 3 stripe writes. Failed syncs are left out
     * here (on this node one fails its drive for good, see the next test). Shown failing with the
     * write hole open (batches 8-byte aligned, a partial row's parity rewritten in place): "cycle 20:
     * the engine has maps [1], the model [4, 7, 10, 11]" in the first of 3 runs.
     */
    @Test
    void acknowledgedDataSurvivesPowerCutsWithErasureCoding() throws Exception {
        cutsAgainstTheModel(EC_DRIVES, new ErasureCode(2, 1), Integer.getInteger("basalt.powerloss.ec-runs", 3), false);
    }

    /**
     * As above, and in the second half of each run one failed sync fails a drive for good (no rebuild
     * yet), so later cycles run degraded, on whatever parity the cuts before left. It failed in about
     * one run of three (seed 17309005335101, cycle 101: "the engine has maps [1, 2], the model [3, 15, 16,
     * 17, 21, 22]"; seed 16770236077837, cycle 101: a media error): a cut in the middle of a stripe write
     * had kept a checkpoint record's or a batch's data chunks but not their parity, recovery adopted
     * them, and once a data drive failed they were rebuilt from the stale parity (a record so damaged
     * ends the scan of its segment, so the node came back from an old checkpoint). Recovery now makes
     * the parity of what it adopts whole ({@code DriveSet.restoreParity}; {@link TornParityRecoveryTest}
     * shows it deterministically). Before that, it failed again here in the 3rd of 30 runs
     * (seed 22617986332800, cycle 101: "the engine has maps [1, 2, 3, 4, 5, 6], the model [13, 15, 16, 18,
     * 19, 20]").
     */
    @Test
    void acknowledgedDataSurvivesPowerCutsWithErasureCodingAndAFailedDrive() throws Exception {
        cutsAgainstTheModel(EC_DRIVES, new ErasureCode(2, 1), Integer.getInteger("basalt.powerloss.ec-runs", 3), true);
    }

    private static void cutsAgainstTheModel(List<Path> drives, ErasureCode code, int runs, boolean failDrives)
            throws Exception {
        long seed = Long.getLong("basalt.powerloss.seed", System.nanoTime());
        System.out.println("power-loss runs (erasure code " + code + ") from seed " + seed);
        int cutDuringOperations = 0;
        int cutDuringRecovery = 0;
        long segmentsReclaimed = 0;
        int fromDeltas = 0;
        int tornCheckpointsIgnored = 0;
        int degraded = 0;
        int splitCuts = 0;
        for (int run = 0; run < runs; run++) {
            long runSeed = seed + run;
            try {
                Run cycles = new Run(runSeed, true, drives, code, failDrives);
                cycles.cycles(CYCLES_PER_RUN);
                cutDuringOperations += cycles.cutDuringOperations;
                cutDuringRecovery += cycles.cutDuringRecovery;
                segmentsReclaimed += cycles.segmentsReclaimed;
                fromDeltas += cycles.fromDeltas;
                tornCheckpointsIgnored += cycles.tornCheckpointsIgnored;
                degraded += cycles.degraded;
                splitCuts += cycles.media.splitCuts();
            } catch (AssertionError | Exception e) {
                throw new AssertionError("power-loss run failed; replay with -Dbasalt.powerloss.seed=" + runSeed
                        + " -Dbasalt.powerloss.runs=1: " + e.getMessage(), e);
            }
        }
        // The harness must have cut where it means to, or it proves nothing.
        int cycles = runs * CYCLES_PER_RUN;
        assertTrue(cutDuringOperations > cycles / 2, cutDuringOperations + " of " + cycles + " cut during operations");
        assertTrue(cutDuringRecovery > cycles / 20, cutDuringRecovery + " of " + cycles + " cut during recovery");
        // Garbage collection frees whole segments, or whole stripes (a segment on each of k + m drives) with
        // erasure coding: the 2+1 node has 8 stripes where the plain one has 16 segments, and frees half as
        // many in as many cycles. So the bar is a share of the node's units: cycles / 20 for 16. How many it
        // frees also depends on the collector's share of the CPU: a loaded CI run of the failed-drive test
        // freed 30 stripes in 600 cycles (seed 50089834078480, which passed replayed on a quiet machine)
        // when the bar was cycles / 20 = 30 for both.
        long units = drives.size() * (DRIVE_BYTES / SEGMENT) / (code.enabled() ? code.width() : 1);
        assertTrue(segmentsReclaimed > cycles * units / 320, segmentsReclaimed + " segments (or stripes) of " + units
                + " reclaimed in " + cycles + " cycles");
        System.out.printf("power-loss: %d of %d recoveries from a chain with deltas, %d ignored a newer torn checkpoint%n",
                fromDeltas, cycles, tornCheckpointsIgnored);
        assertTrue(fromDeltas > cycles / 2, fromDeltas + " of " + cycles + " recoveries from a chain with deltas");
        // 9 to 20 of 2,000 in the runs so far: a cut must fall inside a checkpoint's records and leave a
        // header intact. At least one, or the harness did not exercise the fallback at all.
        assertTrue(tornCheckpointsIgnored > 0, tornCheckpointsIgnored + " of " + cycles
                + " recoveries found a torn checkpoint");
        if (code.enabled()) {
            // A cut in the middle of a stripe write: some of its chunks on the media, others not. The
            // model check after each is what shows the write hole closed.
            System.out.printf("power-loss: %d of %d cuts fell in the middle of a stripe write%n", splitCuts, cycles);
            assertTrue(splitCuts > cycles / 10, splitCuts + " of " + cycles + " cuts split a stripe write");
        }
        if (failDrives) {
            System.out.printf("power-loss: %d of %d cycles ran with a failed drive%n", degraded, cycles);
            assertTrue(degraded > cycles / 10, degraded + " of " + cycles + " cycles ran degraded");
        }
    }

    /**
     * The disaster case: power cuts as above, then every checkpoint on the drives is lost (their
     * segments' headers zeroed) and every map is rebuilt by scanning the log; it must match the model
     * as after any other recovery (including the batches earlier recoveries dropped: they must not come
     * back). Without garbage collection, which may reclaim the only record of an unmap or delete, a full
     * scan's known limit. Shown failing when recovery does not erase the batches after the end of the
     * log (part of the defect 1 fix). Recovery from the drives alone with the checkpoints is what every
     * cycle of the test above does: nothing is in the data directory.
     * Replay: {@code -Dtest=PowerLossTest#recoversByAFullScanWhenTheCheckpointsAreLost -Dbasalt.powerloss.seed=SEED}.
     */
    @Test
    void recoversByAFullScanWhenTheCheckpointsAreLost() throws Exception {
        long seed = Long.getLong("basalt.powerloss.seed", System.nanoTime());
        System.out.println("full-scan runs from seed " + seed);
        for (int run = 0; run < 40; run++) {
            long runSeed = seed + run;
            Run cycles = new Run(runSeed, false, DRIVES, ErasureCode.NONE, false);
            try {
                cycles.cycles(4);
                for (Path drive : DRIVES) {
                    OnDriveCheckpoints.eraseAll(cycles.media.offline(drive), SEGMENT);
                }
                cycles.engine = Engine.open(cycles.config, cycles.media);
                assertFalse(cycles.engine.recovery().fromCheckpoint());
                cycles.check();
                cycles.engine.close();
            } catch (AssertionError | Exception e) {
                throw new AssertionError("full-scan run failed; replay with -Dbasalt.powerloss.seed=" + runSeed
                        + ": " + e.getMessage(), e);
            }
        }
    }

    /** What a block may read back: its durable version and every version written after it. */
    private static final class Block {
        long durable;
        long latest;
        final List<Long> since = new ArrayList<>();

        void settle(long tag) {
            durable = tag;
            latest = tag;
            since.clear();
        }
    }

    private static final class ModelMap {
        final boolean snapshot;
        final Block[] blocks = new Block[VOLUME_BLOCKS];

        ModelMap(boolean snapshot, long[] tags) {
            this.snapshot = snapshot;
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = new Block();
                blocks[i].settle(tags[i]);
            }
        }

        long[] latest() {
            long[] tags = new long[blocks.length];
            for (int i = 0; i < tags.length; i++) {
                tags[i] = blocks[i].latest;
            }
            return tags;
        }

        void durable() {
            for (Block block : blocks) {
                block.settle(block.latest);
            }
        }
    }

    /** A map change whose outcome the power cut left open: a delete, or maps created together (all or none). */
    private record Uncertain(Integer deleted, List<ModelMap> created) {
    }

    private static final class Run {
        final Random random;
        final PowerLossMedia media = new PowerLossMedia();
        final EngineConfig config;
        final Map<Integer, ModelMap> maps = new TreeMap<>();
        Uncertain uncertain;
        Engine engine;
        long nextTag = 1;
        int cycle;
        int cutDuringOperations;
        int cutDuringRecovery;
        long segmentsReclaimed;
        int fromDeltas;
        int tornCheckpointsIgnored;
        int degraded;

        /** Whether garbage collection runs when asked (it does on its own only when space runs low). */
        final boolean collecting;
        /** On an erasure-coded node a failed sync fails its drive for good: only if {@link #failDrives}. */
        final boolean erasureCoded;
        /** Erasure-coded: one failed sync, in the second half of the run, once no drive has failed. */
        final boolean failDrives;

        Run(long seed, boolean collecting, List<Path> drives, ErasureCode code, boolean failDrives) {
            this.collecting = collecting;
            this.erasureCoded = code.enabled();
            this.failDrives = failDrives;
            random = new Random(seed);
            config = new EngineConfig(drives, DRIVE_BYTES, Path.of("sim", "meta"), new UUID(seed, 1), SEGMENT,
                    false, 4L << 20, 600_000, 100, 4.0, false, code);
        }

        void cycles(int count) throws Exception {
            for (cycle = 0; cycle < count; cycle++) {
                open();
                check();
                // Erasure-coded with failDrives: the first half of a run on whole stripes, then one failed sync.
                if (random.nextInt(6) == 0 && (!erasureCoded
                        || failDrives && cycle >= count / 2 && engine.failedDrives().isEmpty())) {
                    media.failSync(1 + random.nextInt(8));
                } else {
                    media.cutAfter(1 + random.nextInt(40));
                }
                for (int op = 0; op < 30; op++) {
                    // After a failed sync the media still work: the engine must refuse what follows.
                    if (!operate() && !media.powered()) {
                        break;
                    }
                }
                if (!media.powered()) {
                    cutDuringOperations++;
                }
                segmentsReclaimed += engine.counters().segmentsReclaimed();
                engine.crashForTest();
                media.powerCut(random);
            }
        }

        /** Opens the engine, sometimes with the power failing during recovery; recovery must succeed. */
        void open() throws IOException {
            if (random.nextInt(5) == 0) {
                media.cutAfter(1 + random.nextInt(6));
                try {
                    Engine.open(config, media).crashForTest();
                } catch (IOException | UncheckedIOException interrupted) {
                    cutDuringRecovery++;
                }
                media.powerCut(random);
            }
            engine = Engine.open(config, media);
            if (!engine.failedDrives().isEmpty()) {
                degraded++;
            }
            var checkpoints = engine.recovery().checkpoints();
            if (checkpoints.deltas() > 0) {
                fromDeltas++;
            }
            if (checkpoints.next() - 1 > checkpoints.last()) {
                tornCheckpointsIgnored++;
            }
        }

        /** Resolves the uncertain map change, then reads every block of every map. */
        void check() {
            Set<Integer> present = new HashSet<>(engine.mapIds());
            if (uncertain != null) {
                if (uncertain.deleted() != null && !present.contains(uncertain.deleted())) {
                    maps.remove(uncertain.deleted());
                }
                if (!uncertain.created().isEmpty()) {
                    Set<Integer> extra = new TreeSet<>(present);
                    extra.removeAll(maps.keySet());
                    if (!extra.isEmpty() && extra.size() != uncertain.created().size()) {
                        fail("maps " + extra + " appeared; the map change under way creates "
                                + uncertain.created().size() + " at once, all or none");
                    }
                    // Ids are given in order, so the i-th new id is the i-th created map.
                    Iterator<ModelMap> created = uncertain.created().iterator();
                    extra.forEach(id -> maps.put(id, created.next()));
                }
                uncertain = null;
            }
            if (!present.equals(maps.keySet())) {
                fail("the engine has maps " + present + ", the model " + maps.keySet());
            }
            IoResult[] status = new IoResult[1];
            maps.forEach((id, map) -> {
                EngineVolume volume = engine.volume(id).orElseThrow();
                byte[] bytes = EngineHarness.read(volume, 0, VOLUME_BLOCKS, status);
                if (status[0] != IoResult.OK) {
                    fail("reading map " + id + " failed with status " + status[0]);
                }
                for (int lba = 0; lba < VOLUME_BLOCKS; lba++) {
                    byte[] actual = Arrays.copyOfRange(bytes, lba * BLOCK, (lba + 1) * BLOCK);
                    long tag = EngineHarness.tagOf(actual);
                    Block block = map.blocks[lba];
                    String where = "map " + id + " block " + lba + " (durable version " + block.durable
                            + ", written since " + block.since + ")";
                    if (!Arrays.equals(actual, EngineHarness.content(tag, lba))) {
                        fail(where + " holds data that is no whole version of it (claims version " + tag + ")");
                    }
                    if (tag != block.durable && !block.since.contains(tag)) {
                        fail(where + " reads version " + tag);
                    }
                    block.settle(tag);
                }
            });
        }

        /** One random operation; false if it failed (the power is gone or the engine stopped). */
        boolean operate() {
            List<Integer> volumes = maps.entrySet().stream().filter(e -> !e.getValue().snapshot)
                    .map(Map.Entry::getKey).toList();
            int choice = random.nextInt(100);
            try {
                if (volumes.isEmpty() || (choice < 4 && maps.size() < MAX_MAPS)) {
                    return mapChange(null, List.of(new ModelMap(false, new long[VOLUME_BLOCKS])),
                            () -> List.of(engine.createVolume(BLOCK, VOLUME_BLOCKS, random.nextBoolean())));
                }
                int id = volumes.get(random.nextInt(volumes.size()));
                ModelMap map = maps.get(id);
                if (engine.volume(id).isEmpty()) {
                    return false; // deleted by a map change that failed, and is uncertain
                }
                if (choice < 55) {
                    return write(id, map, random.nextInt(8) == 0);
                }
                if (choice < 63) {
                    return unmap(id, map);
                }
                if (choice < 75) {
                    if (EngineHarness.flush(engine.volume(id).orElseThrow()) != IoResult.OK) {
                        return false;
                    }
                    map.durable();
                    return true;
                }
                int room = MAX_MAPS - maps.size();
                if (choice < 78 && room > 1 && volumes.size() > 1) {
                    List<Integer> sources = new ArrayList<>(volumes);
                    Collections.shuffle(sources, random);
                    List<Integer> group = List.copyOf(sources.subList(0, Math.min(room, sources.size())));
                    return mapChange(null, group.stream().map(v -> new ModelMap(true, maps.get(v).latest())).toList(),
                            () -> engine.snapshotsOf(group));
                }
                if (choice < 83 && room > 0) {
                    boolean snapshot = random.nextBoolean();
                    return mapChange(null, List.of(new ModelMap(snapshot, map.latest())),
                            () -> List.of(engine.cloneOf(id, VOLUME_BLOCKS, random.nextBoolean(), snapshot)));
                }
                if (choice < 88 && maps.size() > 1) {
                    int victim = new ArrayList<>(maps.keySet()).get(random.nextInt(maps.size()));
                    return mapChange(victim, List.of(), () -> {
                        engine.delete(victim);
                        return List.of();
                    });
                }
                if (choice < 94) {
                    if (collecting) {
                        engine.collectGarbage();
                    }
                    return true;
                }
                engine.checkpoint();
                maps.values().forEach(ModelMap::durable);
                return true;
            } catch (IOException | UncheckedIOException | IllegalStateException e) {
                return false;
            } catch (IllegalArgumentException e) {
                // A map change that failed on a sync error may still show in memory, never after a restart.
                if (engine.failure().isEmpty()) {
                    throw e;
                }
                return false;
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }

        private interface Change {
            /** The ids of the maps it created, in the order of the change's created models. */
            List<Integer> apply() throws IOException;
        }

        /** A map change; once it completes it and everything before it are durable. */
        private boolean mapChange(Integer deleted, List<ModelMap> created, Change change) throws IOException {
            Uncertain earlier = uncertain;
            if (earlier == null) {
                uncertain = new Uncertain(deleted, created);
            }
            List<Integer> ids;
            try {
                ids = change.apply();
            } catch (UncheckedIOException | IllegalArgumentException e) {
                if (earlier == null && engine.failure().isEmpty()) {
                    uncertain = null; // refused without a drive error (no space): nothing changed
                }
                throw e;
            }
            if (earlier != null) {
                fail("a map change was acknowledged after an earlier one failed, without a restart");
            }
            uncertain = null;
            if (deleted != null) {
                maps.remove(deleted);
            }
            for (int i = 0; i < ids.size(); i++) {
                maps.put(ids.get(i), created.get(i));
            }
            maps.values().forEach(ModelMap::durable);
            return true;
        }

        private boolean write(int id, ModelMap map, boolean fua) {
            // Mostly small writes; sometimes large ones, so that unsynced batches span segments.
            int blocks = random.nextInt(6) == 0 ? 1 + random.nextInt(VOLUME_BLOCKS) : 1 + random.nextInt(4);
            int lba = random.nextInt(VOLUME_BLOCKS - blocks + 1);
            long[] tags = new long[blocks];
            for (int i = 0; i < blocks; i++) {
                tags[i] = nextTag++;
                map.blocks[lba + i].since.add(tags[i]);
            }
            IoResult status = EngineHarness.await(EngineHarness.writeAsync(engine.volume(id).orElseThrow(), lba, tags, fua));
            if (status != IoResult.OK) {
                return false;
            }
            for (int i = 0; i < blocks; i++) {
                map.blocks[lba + i].latest = tags[i];
                if (fua) {
                    map.blocks[lba + i].settle(tags[i]);
                }
            }
            return true;
        }

        private boolean unmap(int id, ModelMap map) {
            int blocks = 1 + random.nextInt(8);
            int lba = random.nextInt(VOLUME_BLOCKS - blocks + 1);
            for (int i = 0; i < blocks; i++) {
                map.blocks[lba + i].since.add(0L);
            }
            if (EngineHarness.unmap(engine.volume(id).orElseThrow(), lba, blocks) != IoResult.OK) {
                return false;
            }
            for (int i = 0; i < blocks; i++) {
                map.blocks[lba + i].latest = 0;
            }
            return true;
        }

        private void fail(String message) {
            throw new AssertionError("cycle " + cycle + ": " + message);
        }
    }
}
