package io.basalt.service.engine;

import io.basalt.service.engine.map.Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

import static io.basalt.service.engine.EngineHarness.BLOCK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Thin provisioning and running out of space, checksum errors, compression. */
class SpaceAndMediaTest {

    @Test
    void writingPastCapacityFailsWithCapacityExceededAndKeepsData(@TempDir Path dir) throws Exception {
        // The throttle bounds how long a write waits for garbage collection to free a segment: a loaded
        // machine's collection took longer than 300 ms once (NO_SPACE after the deallocation), so 10 s.
        // A write past capacity fails at once whatever it is, since then nothing is reclaimable.
        try (EngineHarness h = new EngineHarness(dir, 64L << 20, 1, 10_000, 16L << 20)) {
            long capacity = h.engine.capacityBytes();
            int blocks = (int) (2 * capacity / BLOCK); // thin: twice the node's capacity
            int id = h.engine.createVolume(BLOCK, blocks, false);
            EngineVolume v = h.volume(id);
            long[] model = new long[blocks];
            int written = 0;
            IoResult status = IoResult.OK;
            for (int lba = 0; lba < blocks; lba += 16) {
                long[] tags = new long[16];
                for (int i = 0; i < 16; i++) {
                    tags[i] = lba + i + 1L;
                }
                status = EngineHarness.write(v, lba, tags);
                if (status != IoResult.OK) {
                    break;
                }
                System.arraycopy(tags, 0, model, lba, 16);
                written += 16;
            }
            assertEquals(IoResult.NO_SPACE, status, "the write past capacity fails with Capacity Exceeded");
            assertTrue((long) written * BLOCK > capacity * 8 / 10, "most of the capacity was usable: " + written);
            assertTrue((long) written * BLOCK <= capacity, "no more than the capacity was written");
            assertTrue(h.engine.counters().capacityErrors() > 0);
            assertEquals(IoResult.OK, EngineHarness.flush(v), "a flush still works");
            EngineHarness.verify(v, model, "after running out of space");

            // Deallocate every other 64-block run: the space comes back once garbage collection ran.
            for (int lba = 0; lba < written; lba += 128) {
                assertEquals(IoResult.OK, EngineHarness.unmap(v, lba, Math.min(64, written - lba)));
                Arrays.fill(model, lba, Math.min(lba + 64, written), 0);
            }
            long tag = 1_000_000;
            for (int lba = 0; lba < written; lba += 128) {
                int n = Math.min(16, written - lba);
                long[] tags = new long[n];
                for (int i = 0; i < n; i++) {
                    tags[i] = tag++;
                }
                assertEquals(IoResult.OK, EngineHarness.write(v, lba, tags), "write after deallocate at " + lba);
                System.arraycopy(tags, 0, model, lba, n);
            }
            assertTrue(h.engine.counters().segmentsReclaimed() > 0, "garbage collection freed segments");
            EngineHarness.verify(v, model, "after deallocating and writing again");
            h.reopen();
            EngineHarness.verify(h.volume(id), model, "after reopen");
        }
    }

    @Test
    void aCorruptedStoredBlockReadsAsAMediaErrorAndOthersStayReadable(@TempDir Path dir) throws Exception {
        try (EngineHarness h = new EngineHarness(dir, 64L << 20)) {
            for (boolean compressed : new boolean[] {false, true}) {
                long before = h.engine.counters().checksumErrors();
                int id = h.engine.createVolume(BLOCK, 64, compressed);
                EngineVolume v = h.volume(id);
                long[] model = new long[64];
                for (int lba = 0; lba < 64; lba++) {
                    model[lba] = 3 * (lba + 1) + (compressed ? 0 : 1); // compressible when compressed
                }
                assertEquals(IoResult.OK, EngineHarness.write(v, 0, model));
                assertEquals(IoResult.OK, EngineHarness.flush(v));
                long[] entry = new long[2];
                v.map().lookup(17, entry);
                long address = entry[0];
                assertEquals(compressed, Address.storedLength(address) < BLOCK, Address.toString(address));
                long position = (1L << 20) + (long) Address.segment(address) * EngineHarness.SEGMENT
                        + Address.offset(address) + Address.storedLength(address) / 2;
                try (RandomAccessFile file = new RandomAccessFile(h.drive(0).toFile(), "rw")) {
                    file.seek(position);
                    int b = file.read();
                    file.seek(position);
                    file.write(b ^ 0x40);
                }
                IoResult[] status = new IoResult[1];
                long pooled = h.engine.counters().pooledReads();
                EngineHarness.read(v, 17, 1, status);
                assertEquals(IoResult.MEDIA_ERROR, status[0]);
                assertEquals(before + 1, h.engine.counters().checksumErrors());
                assertEquals(pooled, h.engine.counters().pooledReads(), "the cached block was read from memory");
                if (!compressed) {
                    // A compressed block goes through a small direct buffer of its own, so only a raw block
                    // read into a heap buffer is sure to take the read pool.
                    EngineHarness.readOnPool(v, 17, 1, status);
                    assertEquals(IoResult.MEDIA_ERROR, status[0], "the read pool checks the same way");
                    assertEquals(pooled + 1, h.engine.counters().pooledReads());
                    before++;
                }
                EngineHarness.read(v, 10, 20, status);
                assertEquals(IoResult.MEDIA_ERROR, status[0], "a read that covers the block fails");
                assertEquals(before + 2, h.engine.counters().checksumErrors());
                model[17] = 0;
                for (int lba = 0; lba < 64; lba++) {
                    if (lba != 17) {
                        byte[] block = EngineHarness.read(v, lba, 1, status);
                        assertEquals(IoResult.OK, status[0]);
                        assertTrue(Arrays.equals(EngineHarness.content(model[lba], lba), block), "block " + lba);
                    }
                }
                assertEquals(before + 2, h.engine.counters().checksumErrors(), "only the damaged block fails");
            }
        }
    }

    @Test
    void compressionStoresCompressibleDataInFewBytesAndIncompressibleDataRaw(@TempDir Path dir) throws Exception {
        try (EngineHarness h = new EngineHarness(dir, 128L << 20)) {
            int blocks = 1024;
            int compressible = h.engine.createVolume(BLOCK, blocks, true);
            int random = h.engine.createVolume(BLOCK, blocks, true);
            int plain = h.engine.createVolume(BLOCK, blocks, false);
            long[] ctags = new long[blocks];
            long[] rtags = new long[blocks];
            for (int i = 0; i < blocks; i++) {
                ctags[i] = 3L * (i + 1);
                rtags[i] = 3L * (i + 1) + 1;
            }
            CompletableFuture<?>[] writes = new CompletableFuture<?>[3 * blocks / 32];
            int w = 0;
            for (int lba = 0; lba < blocks; lba += 32) {
                writes[w++] = EngineHarness.writeAsync(h.volume(compressible), lba,
                        Arrays.copyOfRange(ctags, lba, lba + 32), false);
                writes[w++] = EngineHarness.writeAsync(h.volume(random), lba,
                        Arrays.copyOfRange(rtags, lba, lba + 32), false);
                writes[w++] = EngineHarness.writeAsync(h.volume(plain), lba,
                        Arrays.copyOfRange(ctags, lba, lba + 32), false);
            }
            for (CompletableFuture<?> write : writes) {
                assertEquals(IoResult.OK, write.get());
            }
            var c = h.engine.usage(compressible);
            var r = h.engine.usage(random);
            var p = h.engine.usage(plain);
            System.out.printf("compression: compressible %d KiB stored for %d KiB (ratio %.1f), random %d KiB for %d KiB%n",
                    c.storedBytes() >> 10, c.mappedBytes() >> 10, (double) c.mappedBytes() / c.storedBytes(),
                    r.storedBytes() >> 10, r.mappedBytes() >> 10);
            assertEquals((long) blocks * BLOCK, c.mappedBytes());
            assertTrue(c.storedBytes() * 10 < c.mappedBytes(), "compressible data takes a tenth or less");
            assertEquals((long) blocks * BLOCK, r.storedBytes(), "incompressible data is stored raw");
            assertEquals((long) blocks * BLOCK, p.storedBytes(), "a volume without compression stores raw");
            for (int round = 0; round < 2; round++) {
                EngineHarness.verify(h.volume(compressible), ctags, "compressible");
                EngineHarness.verify(h.volume(random), rtags, "incompressible");
                EngineHarness.verify(h.volume(plain), ctags, "uncompressed volume");
                h.crashAndReopen();
            }
        }
    }

    @Test
    void fuaAndFlushSyncAndEverySizeOfIoWorks(@TempDir Path dir) throws Exception {
        try (EngineHarness h = new EngineHarness(dir, 64L << 20)) {
            int id = h.engine.createVolume(BLOCK, 1024, false);
            EngineVolume v = h.volume(id);
            long syncs = h.engine.counters().syncs();
            long[] big = new long[256]; // 1 MiB, the largest transfer the target allows by default
            for (int i = 0; i < big.length; i++) {
                big[i] = i + 1;
            }
            assertEquals(IoResult.OK, EngineHarness.await(EngineHarness.writeAsync(v, 100, big, true)));
            assertTrue(h.engine.counters().syncs() > syncs, "FUA syncs");
            long[] model = new long[1024];
            System.arraycopy(big, 0, model, 100, 256);
            EngineHarness.verify(v, model, "after a 1 MiB write");
            IoResult[] status = new IoResult[1];
            EngineHarness.read(v, 1000, 25, status);
            assertEquals(IoResult.OUT_OF_RANGE, status[0]);
            assertEquals(IoResult.OUT_OF_RANGE, EngineHarness.write(v, 1024, 1));
            h.engine.resize(id, 2048);
            assertEquals(2048, v.blockCount(), "a connected volume sees the new size");
            assertEquals(IoResult.OK, EngineHarness.write(v, 2000, 77));
            int snapshot = h.engine.cloneOf(id, 2048, false, true);
            assertEquals(IoResult.READ_ONLY, EngineHarness.write(h.volume(snapshot), 0, 1), "snapshots are read-only");
            h.engine.delete(id);
            assertEquals(IoResult.GONE, EngineHarness.write(v, 0, 1), "a deleted volume fails I/O");
        }
    }
}
