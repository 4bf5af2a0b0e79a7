package io.basalt.service.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static io.basalt.service.engine.EngineHarness.BLOCK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Snapshot and clone semantics under concurrent writers, and space accounting when they are deleted. */
class SnapshotTest {
    private static final int WRITERS = 3;
    private static final int BLOCKS = 3 * 200;

    /**
     * Writer thread t owns blocks b with b % WRITERS == t and writes them one at a time, each with a new
     * tag; its writes are numbered in issue order. A snapshot must be a cut of every writer's history:
     * for each writer there is a k such that the snapshot holds exactly its writes 1..k (the last of
     * them for each block), where k covers at least every write acknowledged before the snapshot call
     * began and at most the writes issued before it returned.
     */
    @Test
    void snapshotUnderConcurrentWritersHoldsExactlyACutOfAcknowledgedWrites(@TempDir Path dir) throws Exception {
        try (EngineHarness h = new EngineHarness(dir, 128L << 20)) {
            int id = h.engine.createVolume(BLOCK, BLOCKS, false);
            EngineVolume v = h.volume(id);
            // per writer: history of (block, tag) in issue order; acked / issued counts
            List<List<long[]>> history = new ArrayList<>();
            long[] acked = new long[WRITERS];
            long[] issued = new long[WRITERS];
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < WRITERS; t++) {
                List<long[]> mine = new ArrayList<>();
                history.add(mine);
                int writer = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    Random random = new Random(writer);
                    try {
                        for (int k = 1; k <= 20_000 && !stop.get(); k++) {
                            long block = (long) random.nextInt(BLOCKS / WRITERS) * WRITERS + writer;
                            long tag = ((long) writer << 32) | k;
                            synchronized (mine) {
                                mine.add(new long[] {block, tag});
                                issued[writer] = k;
                            }
                            IoResult status = EngineHarness.write(v, block, tag);
                            if (status != IoResult.OK) {
                                throw new AssertionError("write status " + status);
                            }
                            synchronized (mine) {
                                acked[writer] = k;
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            List<Integer> snapshots = new ArrayList<>();
            List<long[]> floors = new ArrayList<>();
            List<long[]> ceilings = new ArrayList<>();
            for (int s = 0; s < 8; s++) {
                Thread.sleep(20);
                long[] floor = new long[WRITERS];
                for (int t = 0; t < WRITERS; t++) {
                    synchronized (history.get(t)) {
                        floor[t] = acked[t];
                    }
                }
                snapshots.add(h.engine.cloneOf(id, BLOCKS, false, true));
                long[] ceiling = new long[WRITERS];
                for (int t = 0; t < WRITERS; t++) {
                    synchronized (history.get(t)) {
                        ceiling[t] = issued[t];
                    }
                }
                floors.add(floor);
                ceilings.add(ceiling);
            }
            stop.set(true);
            for (Thread thread : threads) {
                thread.join(60_000);
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            for (int s = 0; s < snapshots.size(); s++) {
                long[] tags = new long[BLOCKS];
                IoResult[] status = new IoResult[1];
                EngineVolume snapshot = h.volume(snapshots.get(s));
                for (int b = 0; b < BLOCKS; b++) {
                    byte[] block = EngineHarness.read(snapshot, b, 1, status);
                    assertEquals(IoResult.OK, status[0]);
                    tags[b] = EngineHarness.tagOf(block);
                    assertTrue(Arrays.equals(EngineHarness.content(tags[b], b), block), "block " + b + " is whole");
                }
                for (int t = 0; t < WRITERS; t++) {
                    List<long[]> mine = history.get(t);
                    int k = 0;
                    for (int b = t; b < BLOCKS; b += WRITERS) {
                        if (tags[b] != 0) {
                            assertEquals(t, tags[b] >>> 32, "block " + b + " written by its owner");
                            k = Math.max(k, (int) tags[b]);
                        }
                    }
                    assertTrue(k >= floors.get(s)[t], "snapshot " + s + " misses writer " + t
                            + "'s acknowledged writes: holds up to " + k + ", acknowledged " + floors.get(s)[t]);
                    assertTrue(k <= ceilings.get(s)[t], "snapshot " + s + " holds writer " + t
                            + "'s write " + k + ", issued only after it: " + ceilings.get(s)[t]);
                    Map<Long, Long> expected = new HashMap<>();
                    for (int i = 0; i < k; i++) {
                        expected.put(mine.get(i)[0], mine.get(i)[1]);
                    }
                    for (int b = t; b < BLOCKS; b += WRITERS) {
                        assertEquals(expected.getOrDefault((long) b, 0L), tags[b], "snapshot " + s + " block " + b
                                + " is not the cut at writer " + t + "'s write " + k);
                    }
                }
            }
        }
    }

    /**
     * A volume V, its snapshot S, a clone C of S and a snapshot S2 of C, all with blocks of their own
     * and shared ones, deleted in every order: after each deletion the engine's live bytes are exactly
     * the distinct blocks the remaining maps hold, ending at 0; usage() splits each map's bytes into
     * exclusive and shared correctly.
     */
    @Test
    void deletingInEveryOrderFreesExactlyWhatNothingElseHolds(@TempDir Path dir) throws Exception {
        try (EngineHarness h = new EngineHarness(dir, 128L << 20)) {
            List<int[]> orders = new ArrayList<>();
            permutations(new int[] {0, 1, 2, 3}, 0, orders);
            assertEquals(24, orders.size());
            long tag = 1;
            Random random = new Random(7);
            for (int[] order : orders) {
                int blocks = 700;
                Map<Integer, long[]> model = new LinkedHashMap<>();
                int v = h.engine.createVolume(BLOCK, blocks, false);
                long[] vt = new long[blocks];
                tag = writeSome(h, v, vt, tag, random, 300);
                model.put(v, vt);
                int s = h.engine.cloneOf(v, blocks, false, true);
                model.put(s, vt.clone());
                tag = writeSome(h, v, vt, tag, random, 100);
                EngineHarness.unmap(h.volume(v), 0, 40);
                Arrays.fill(vt, 0, 40, 0);
                int c = h.engine.cloneOf(s, blocks + 100, false, false);
                long[] ct = Arrays.copyOf(model.get(s), blocks + 100);
                model.put(c, ct);
                tag = writeSome(h, c, ct, tag, random, 150);
                int s2 = h.engine.cloneOf(c, blocks + 100, false, true);
                model.put(s2, ct.clone());
                tag = writeSome(h, c, ct, tag, random, 50);
                int[] ids = {v, s, c, s2};
                checkSpace(h, model);
                for (int which : order) {
                    h.engine.delete(ids[which]);
                    model.remove(ids[which]);
                    checkSpace(h, model);
                }
                assertEquals(0, h.engine.stats().liveBytes(), "order " + Arrays.toString(order));
            }
            h.reopen();
            assertEquals(0, h.engine.stats().liveBytes());
            assertTrue(h.engine.mapIds().isEmpty());
        }
    }

    private static long writeSome(EngineHarness h, int id, long[] tags, long tag, Random random, int count) {
        EngineVolume v = h.volume(id);
        for (int i = 0; i < count; i++) {
            int lba = random.nextInt(tags.length);
            tags[lba] = tag++;
            assertEquals(IoResult.OK, EngineHarness.write(v, lba, tags[lba]));
        }
        return tag;
    }

    private static void checkSpace(EngineHarness h, Map<Integer, long[]> model) {
        Set<Long> all = new HashSet<>();
        Map<Long, Integer> holders = new HashMap<>();
        for (long[] tags : model.values()) {
            Set<Long> mine = new HashSet<>();
            for (long t : tags) {
                if (t != 0 && mine.add(t)) {
                    holders.merge(t, 1, Integer::sum);
                }
            }
            all.addAll(mine);
        }
        assertEquals(all.size() * (long) BLOCK, h.engine.stats().liveBytes(), "live bytes of maps " + model.keySet());
        long exclusiveSum = 0;
        for (Map.Entry<Integer, long[]> e : model.entrySet()) {
            long mapped = Arrays.stream(e.getValue()).filter(t -> t != 0).count();
            long exclusive = Arrays.stream(e.getValue()).filter(t -> t != 0 && holders.get(t) == 1).count();
            var usage = h.engine.usage(e.getKey());
            assertEquals(mapped * BLOCK, usage.mappedBytes(), "mapped bytes of map " + e.getKey());
            assertEquals(mapped * BLOCK, usage.storedBytes(), "stored bytes of map " + e.getKey());
            assertEquals(exclusive * BLOCK, usage.exclusiveBytes(), "exclusive bytes of map " + e.getKey());
            exclusiveSum += usage.exclusiveBytes();
        }
        long shared = holders.values().stream().filter(n -> n > 1).count() * BLOCK;
        assertEquals(h.engine.stats().liveBytes(), exclusiveSum + shared, "exclusive + shared = live");
    }

    private static void permutations(int[] items, int from, List<int[]> out) {
        if (from == items.length) {
            out.add(items.clone());
            return;
        }
        for (int i = from; i < items.length; i++) {
            int[] swapped = items.clone();
            int x = swapped[from];
            swapped[from] = swapped[i];
            swapped[i] = x;
            permutations(swapped, from + 1, out);
        }
    }
}
