package io.basalt.service.engine;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static io.basalt.service.engine.EngineHarness.BLOCK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random operation sequences on the engine checked against a model (one tag per block of every map),
 * after the sequence, after a clean close and reopen, after a crash (no final checkpoint) and after a
 * crash that also lost the checkpoint file (full-scan rebuild).
 */
class EnginePropertyTest {

    /** The model: every map's blocks, lineages, and which maps are snapshots. */
    private static final class Model {
        final Map<Integer, long[]> blocks = new TreeMap<>();
        final Map<Integer, Integer> lineage = new HashMap<>();
        final Map<Integer, Boolean> snapshot = new HashMap<>();
        long nextTag = 1;

        List<Integer> ids() {
            return new ArrayList<>(blocks.keySet());
        }

        List<Integer> volumes() {
            return blocks.keySet().stream().filter(id -> !snapshot.get(id)).toList();
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
    void randomOperationsMatchTheModelAcrossRestartsAndCrashes(int seed, @TempDir Path dir) throws Exception {
        Random random = new Random(seed);
        Model model = new Model();
        try (EngineHarness h = new EngineHarness(dir, 256L << 20, 1 + seed % 2, 500, 4L << 20)) {
            run(h, model, random, 300);
            verifyAll(h, model, "after the sequence");

            long live = h.engine.stats().liveBytes();
            h.reopen();
            assertTrue(h.engine.recovery().fromCheckpoint());
            assertEquals(0, h.engine.recovery().replayedBatches(), "a clean close leaves nothing to replay");
            verifyAll(h, model, "after close and reopen");
            assertEquals(live, h.engine.stats().liveBytes(), "live bytes after reopen");

            run(h, model, random, 150);
            live = h.engine.stats().liveBytes();
            h.crashAndReopen();
            assertTrue(h.engine.recovery().fromCheckpoint());
            verifyAll(h, model, "after a crash");
            assertEquals(live, h.engine.stats().liveBytes(), "live bytes after a crash");

            run(h, model, random, 100);
            live = h.engine.stats().liveBytes();
            h.crashLoseCheckpointAndReopen();
            assertTrue(!h.engine.recovery().fromCheckpoint());
            verifyAll(h, model, "after a crash that lost the checkpoint");
            assertEquals(live, h.engine.stats().liveBytes(), "live bytes after a full scan");

            run(h, model, random, 50);
            verifyAll(h, model, "after more operations on the rebuilt maps");
        }
    }

    private static void run(EngineHarness h, Model model, Random random, int operations) throws Exception {
        if (model.volumes().isEmpty()) {
            create(h, model, random);
        }
        for (int op = 0; op < operations; op++) {
            int dice = random.nextInt(100);
            List<Integer> volumes = model.volumes();
            List<Integer> ids = model.ids();
            if (volumes.isEmpty()) {
                create(h, model, random);
                continue;
            }
            int volume = volumes.get(random.nextInt(volumes.size()));
            long[] tags = model.blocks.get(volume);
            if (dice < 45) {
                int n = 1 + random.nextInt(8);
                long lba = random.nextInt(tags.length - n + 1);
                long[] written = new long[n];
                for (int i = 0; i < n; i++) {
                    written[i] = model.nextTag++;
                }
                assertEquals(IoResult.OK, EngineHarness.write(h.volume(volume), lba, written));
                System.arraycopy(written, 0, tags, (int) lba, n);
            } else if (dice < 53) {
                int n = random.nextBoolean() ? 1 + random.nextInt(16) : 1 + random.nextInt(1200);
                n = Math.min(n, tags.length);
                long lba = random.nextInt(tags.length - n + 1);
                assertEquals(IoResult.OK, EngineHarness.unmap(h.volume(volume), lba, n));
                Arrays.fill(tags, (int) lba, (int) lba + n, 0);
            } else if (dice < 57) {
                assertEquals(IoResult.OK, EngineHarness.flush(h.volume(volume)));
            } else if (dice < 63 && ids.size() < 12) {
                int id = h.engine.cloneOf(volume, tags.length, random.nextBoolean(), true);
                add(model, id, tags.clone(), model.lineage.get(volume), true);
            } else if (dice < 68 && ids.size() < 12) {
                int source = ids.get(random.nextInt(ids.size()));
                long[] from = model.blocks.get(source);
                long size = from.length + (random.nextBoolean() ? 0 : random.nextInt(700));
                int id = h.engine.cloneOf(source, size, random.nextBoolean(), false);
                add(model, id, Arrays.copyOf(from, (int) size), model.lineage.get(source), false);
            } else if (dice < 73) {
                List<Integer> mine = ids.stream().filter(id -> model.snapshot.get(id)
                        && model.lineage.get(id).equals(model.lineage.get(volume))).toList();
                if (!mine.isEmpty()) {
                    int snapshot = mine.get(random.nextInt(mine.size()));
                    h.engine.revert(volume, snapshot);
                    long[] from = model.blocks.get(snapshot);
                    long[] reverted = new long[tags.length];
                    System.arraycopy(from, 0, reverted, 0, Math.min(from.length, tags.length));
                    model.blocks.put(volume, reverted);
                } else {
                    int other = ids.get(random.nextInt(ids.size()));
                    if (!model.lineage.get(other).equals(model.lineage.get(volume))) {
                        assertThrows(IllegalArgumentException.class, () -> h.engine.revert(volume, other));
                    }
                }
            } else if (dice < 78) {
                long size = tags.length + random.nextInt(900);
                h.engine.resize(volume, size);
                model.blocks.put(volume, Arrays.copyOf(tags, (int) size));
                assertThrows(IllegalArgumentException.class, () -> h.engine.resize(volume, size - 1));
            } else if (dice < 84 && ids.size() > 1) {
                int id = ids.get(random.nextInt(ids.size()));
                h.engine.delete(id);
                model.blocks.remove(id);
                assertTrue(h.engine.volume(id).isEmpty());
            } else if (dice < 88 && ids.size() < 12) {
                create(h, model, random);
            } else if (dice < 90) {
                h.engine.checkpoint();
            } else {
                int id = ids.get(random.nextInt(ids.size()));
                long[] expected = model.blocks.get(id);
                int lba = random.nextInt(expected.length);
                IoResult[] status = new IoResult[1];
                byte[] block = EngineHarness.read(h.volume(id), lba, 1, status);
                assertEquals(IoResult.OK, status[0]);
                assertEquals(expected[lba], EngineHarness.tagOf(block), "map " + id + " block " + lba);
            }
        }
    }

    private static void create(EngineHarness h, Model model, Random random) {
        int size = 300 + random.nextInt(1400);
        int id = h.engine.createVolume(BLOCK, size, random.nextBoolean());
        add(model, id, new long[size], id, false);
    }

    private static void add(Model model, int id, long[] blocks, int lineage, boolean snapshot) {
        model.blocks.put(id, blocks);
        model.lineage.put(id, lineage);
        model.snapshot.put(id, snapshot);
    }

    private static void verifyAll(EngineHarness h, Model model, String when) {
        assertEquals(model.ids(), h.engine.mapIds().stream().sorted().toList(), when + ": map ids");
        for (Map.Entry<Integer, long[]> e : model.blocks.entrySet()) {
            EngineVolume v = h.volume(e.getKey());
            EngineHarness.verify(v, e.getValue(), when + ", map " + e.getKey());
            long mapped = Arrays.stream(e.getValue()).filter(t -> t != 0).count();
            assertEquals(mapped * BLOCK, h.engine.usage(e.getKey()).mappedBytes(), when + ": mapped bytes of map "
                    + e.getKey());
        }
        try {
            assertTrue(Files.notExists(h.dir.resolve("meta").resolve("checkpoint")), "checkpoints are on the drives");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
