package io.basalt.service.engine.map;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AddressAndPageTest {

    @Test
    void addressesPackAndUnpackAtTheirLimits() {
        int[][] cases = {{0, 0, 1}, {0, 32, 4096}, {5, 123_456, 777}, {Address.MAX_SEGMENTS - 1,
                Address.MAX_SEGMENT_BYTES - 1, 0xFFFF}};
        for (int[] c : cases) {
            long a = Address.of(c[0], c[1], c[2]);
            assertNotEquals(Address.UNMAPPED, a);
            assertEquals(c[0], Address.segment(a));
            assertEquals(c[1], Address.offset(a));
            assertEquals(c[2], Address.storedLength(a));
        }
        assertEquals(-1, Address.segment(Address.UNMAPPED));
        assertThrows(IllegalArgumentException.class, () -> Address.of(-1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Address.of(Address.MAX_SEGMENTS, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Address.of(0, Address.MAX_SEGMENT_BYTES, 1));
        assertThrows(IllegalArgumentException.class, () -> Address.of(0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Address.of(0, 0, 0x10000));
        assertEquals("unmapped", Address.toString(Address.UNMAPPED));
    }

    /** A reader never pairs one write's address with another write's CRC. */
    @Test
    void seqlockReadsAreNeverTorn() throws Exception {
        MapPage page = new MapPage();
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = Thread.ofPlatform().start(() -> {
            for (int k = 1; k <= 2_000_000 && !stop.get(); k++) {
                page.set(k & 7, Address.of(k & 0xFFFF, k & 0xFFFFF, 1 + (k & 0xFFF)), k * 31);
            }
        });
        AtomicReference<String> torn = new AtomicReference<>();
        long[] out = new long[2];
        long reads = 0;
        while (writer.isAlive() && reads < 5_000_000) {
            for (int e = 0; e < 8; e++) {
                page.read(e, out);
                if (out[0] != Address.UNMAPPED) {
                    int k = (int) out[1] / 31;
                    long expected = Address.of(k & 0xFFFF, k & 0xFFFFF, 1 + (k & 0xFFF));
                    if (expected != out[0] || (int) out[1] != k * 31) {
                        torn.compareAndSet(null, "entry " + e + ": " + Address.toString(out[0]) + " with CRC "
                                + out[1]);
                    }
                }
                reads++;
            }
        }
        stop.set(true);
        writer.join();
        assertEquals(null, torn.get());
        assertTrue(reads > 0);
    }

    /** Reference counting across snapshots, copy-on-write, unmap, relocation and deletion. */
    @Test
    void mapStoreCountsEachStoredBlockOnceAliveAndReleasesItOnce() {
        Map<Long, Integer> refs = new HashMap<>();
        List<String> errors = new ArrayList<>();
        MapStore store = new MapStore(new MapStore.Liveness() {
            @Override
            public void referenced(long address) {
                if (refs.put(address, 1) != null) {
                    errors.add("referenced twice " + Address.toString(address));
                }
            }

            @Override
            public void released(long address) {
                if (refs.remove(address) == null) {
                    errors.add("released while dead " + Address.toString(address));
                }
            }
        });
        store.create(1, 1, 4096, 2000, false, false);
        for (int lba = 0; lba < 1500; lba++) {
            store.write(1, lba, Address.of(0, 32 + lba * 4096 % 1_000_000, 4096), lba);
        }
        assertEquals(1500, refs.size());
        store.cloneOf(2, 1, 2000, false, true);
        store.write(1, 3, Address.of(1, 32, 4096), 1);
        assertEquals(1501, refs.size(), "the snapshot keeps the old block 3");
        assertEquals(1500L * 4096, store.get(2).storedBytes());
        assertEquals(4096, exclusive(store, 1), "only the new block 3 is the volume's alone");
        assertEquals(4096, exclusive(store, 2), "only the old block 3 is the snapshot's alone");
        store.unmap(1, 0, 1024);
        assertEquals(1500, refs.size(), "the new block 3 died; the snapshot still holds pages 0 and 1");
        assertEquals(1024L * 4096, exclusive(store, 2));
        long from = Address.of(0, 32 + 1200 * 4096 % 1_000_000, 4096);
        assertEquals(1, store.relocate(1, 1200, from, Address.of(2, 32, 4096), 5), "one shared page moved");
        assertTrue(refs.containsKey(Address.of(2, 32, 4096)));
        assertTrue(!refs.containsKey(from));
        assertEquals(0, store.relocate(1, 1200, from, Address.of(2, 8192, 4096), 5), "a dead block is not moved");
        long[] out = new long[2];
        store.get(2).lookup(1200, out);
        assertEquals(Address.of(2, 32, 4096), out[0]);
        assertEquals(5, out[1]);
        store.delete(2);
        assertEquals(1500 - 1024 - 0, refs.size(), "only volume 1's blocks 1024..1499 are left");
        store.delete(1);
        assertTrue(refs.isEmpty());
        assertEquals(List.of(), errors);
    }

    private static long exclusive(MapStore store, int id) {
        long sum = 0;
        for (int p = 0; p < MapStore.pageCount(store.get(id)); p++) {
            sum += store.exclusiveBytes(id, p);
        }
        return sum;
    }
}
