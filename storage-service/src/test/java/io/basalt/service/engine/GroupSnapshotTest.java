package io.basalt.service.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.basalt.service.engine.EngineHarness.BLOCK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Snapshots of several volumes at one instant ({@link Engine#snapshotsOf}). */
class GroupSnapshotTest {
    private static final int VOLUMES = 3;
    private static final int BLOCKS = 2000;

    /**
     * One writer numbers its writes 0, 1, 2, ... and puts record i at block i / 3 of volume i % 3, each
     * write acknowledged before the next is issued, while group snapshots of the three volumes are
     * taken. Each group must hold exactly records 0..k-1 for one k (a prefix: no record present while
     * an earlier one is missing), with k at least the writes acknowledged before the call and at most
     * those issued before it returned.
     *
     * <p>Shown failing with {@link Engine#snapshotsOf} taking the snapshots one by one (a loop of
     * {@link Engine#cloneOf}): the writer's records land between them, and the first group already
     * held a record whose predecessor was missing.
     */
    @Test
    void groupUnderASequentialWriterHoldsExactlyAPrefixOfItsRecords(@TempDir Path dir) throws Exception {
        try (EngineHarness h = new EngineHarness(dir, 128L << 20)) {
            List<Integer> volumes = new ArrayList<>();
            List<EngineVolume> served = new ArrayList<>();
            for (int v = 0; v < VOLUMES; v++) {
                volumes.add(h.engine.createVolume(BLOCK, BLOCKS, v == 1));
                served.add(h.volume(volumes.getLast()));
            }
            AtomicLong acknowledged = new AtomicLong();
            AtomicLong issued = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    for (long i = 0; i < (long) VOLUMES * BLOCKS && !stop.get(); i++) {
                        issued.set(i + 1);
                        IoResult status = EngineHarness.write(served.get((int) (i % VOLUMES)), i / VOLUMES, i + 1);
                        if (status != IoResult.OK) {
                            throw new AssertionError("write " + i + ": " + status);
                        }
                        acknowledged.set(i + 1);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            List<List<Integer>> groups = new ArrayList<>();
            List<long[]> bounds = new ArrayList<>();
            try {
                for (int g = 0; g < 6; g++) {
                    Thread.sleep(15);
                    long floor = acknowledged.get();
                    groups.add(h.engine.snapshotsOf(volumes));
                    bounds.add(new long[] {floor, issued.get()});
                }
            } finally {
                stop.set(true);
                writer.join(60_000);
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            for (int g = 0; g < groups.size(); g++) {
                long records = recordsHeld(h, groups.get(g), "group " + g);
                assertTrue(records >= bounds.get(g)[0], "group " + g + " holds records 0.." + (records - 1)
                        + " but " + bounds.get(g)[0] + " were acknowledged before it was taken");
                assertTrue(records <= bounds.get(g)[1], "group " + g + " holds records 0.." + (records - 1)
                        + " but only " + bounds.get(g)[1] + " were issued when it was taken");
            }
            assertTrue(bounds.getLast()[0] > 0, "the writer wrote nothing while the groups were taken");
        }
    }

    @Test
    void refusesAMissingOrRepeatedMapAndChangesNothing(@TempDir Path dir) throws Exception {
        try (EngineHarness h = new EngineHarness(dir, 64L << 20)) {
            int a = h.engine.createVolume(BLOCK, 16, false);
            int maps = h.engine.mapIds().size();
            assertThrows(IllegalArgumentException.class, () -> h.engine.snapshotsOf(List.of(a, a)));
            assertThrows(IllegalArgumentException.class, () -> h.engine.snapshotsOf(List.of(a, 999)));
            assertThrows(IllegalArgumentException.class, () -> h.engine.snapshotsOf(List.of()));
            assertEquals(maps, h.engine.mapIds().size());
            List<Integer> group = h.engine.snapshotsOf(List.of(a));
            assertTrue(h.volume(group.getFirst()).readOnly());
        }
    }

    /**
     * The number k of records the group holds, after checking that it holds exactly records 0..k-1:
     * block b of volume v holds record 3b+v (its tag is the record's number + 1) or zeros.
     */
    private static long recordsHeld(EngineHarness h, List<Integer> group, String what) {
        long[] tags = new long[VOLUMES * BLOCKS];
        IoResult[] status = new IoResult[1];
        for (int v = 0; v < VOLUMES; v++) {
            EngineVolume snapshot = h.volume(group.get(v));
            int run = 250;
            for (int lba = 0; lba < BLOCKS; lba += run) {
                byte[] bytes = EngineHarness.read(snapshot, lba, run, status);
                assertEquals(IoResult.OK, status[0], what + ": read status");
                for (int i = 0; i < run; i++) {
                    byte[] block = java.util.Arrays.copyOfRange(bytes, i * BLOCK, (i + 1) * BLOCK);
                    long record = (long) (lba + i) * VOLUMES + v;
                    tags[(int) record] = EngineHarness.tagOf(block);
                }
            }
        }
        long records = 0;
        while (records < tags.length && tags[(int) records] == records + 1) {
            records++;
        }
        for (long r = records; r < tags.length; r++) {
            assertEquals(0, tags[(int) r], what + " holds record " + r + " (volume " + r % VOLUMES
                    + ") but not record " + records + " (volume " + records % VOLUMES + "): not a prefix");
        }
        return records;
    }
}
