package io.basalt.service.engine.log;

import io.basalt.service.engine.map.Address;
import io.basalt.service.engine.map.MapPage;
import io.basalt.service.engine.map.MapStore;
import io.basalt.service.engine.map.VolumeMap;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.DataInputStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A checkpoint capture freezes the map pages instead of copying them (issue 9, defect 4: the writer
 * no longer copies every page under the engine lock). The image must still be the state as of the
 * capture, whatever the writer changes before the image is written: writes and unmaps to a page only
 * the volume holds, writes to a page shared with a snapshot, and relocations that move a block in
 * every map holding it. Without the copy-on-write of frozen pages in {@code MapStore.writablePage} and
 * {@code MapStore.relocate}, the changes made after the capture leak into the image and this fails
 * (checked by removing each of the two branches).
 */
class CheckpointCaptureTest {
    private static final int SEGMENTS = 64;
    private static final int SEGMENT_SIZE = 4 << 20;
    private static final int VOLUME = 1;
    private static final int SNAPSHOT = 2;
    private static final int BLOCKS = 3 * MapPage.ENTRIES;
    private static final Checkpoint.Link BASE = new Checkpoint.Link(1, 0, 1);

    @Test
    void theImageIsTheStateAtCaptureWhateverChangesBeforeItIsWritten() throws IOException {
        SegmentTable segments = new SegmentTable(SEGMENTS, SEGMENT_SIZE);
        MapStore maps = new MapStore(segments);
        maps.create(VOLUME, VOLUME, 4096, BLOCKS, true, false);
        for (int lba = 0; lba < BLOCKS; lba++) {
            maps.write(VOLUME, lba, original(lba), lba);
        }
        // Page 0 is shared with a snapshot; pages 1 and 2 are the volume's own (rewritten after the
        // snapshot, with the same addresses: the snapshot's pages hold the same blocks).
        maps.cloneOf(SNAPSHOT, VOLUME, BLOCKS, true, true);
        for (int lba = MapPage.ENTRIES; lba < BLOCKS; lba++) {
            maps.write(VOLUME, lba, original(lba), lba);
        }
        VolumeMap volume = maps.get(VOLUME);
        MapPage ownPage = MapStore.page(volume, 1);

        Checkpoint.Image image = Checkpoint.capture(maps, segments, BASE, 100, 3);
        maps.write(VOLUME, 1, changed(1), 1);                           // shared page: copied as before
        maps.write(VOLUME, MapPage.ENTRIES + 1, changed(MapPage.ENTRIES + 1), 0); // own page: frozen, copied
        MapPage copied = MapStore.page(volume, 1);
        assertNotSame(ownPage, copied, "a frozen page is copied before its first change");
        maps.write(VOLUME, MapPage.ENTRIES + 2, changed(MapPage.ENTRIES + 2), 0);
        assertSame(copied, MapStore.page(volume, 1), "the copy is the volume's own: no second copy");
        maps.unmap(VOLUME, 2L * MapPage.ENTRIES + 5, 10);
        assertEquals(2, maps.relocate(VOLUME, 7, original(7), changed(7), 7), "block 7 moved in both maps");
        assertEquals(2, maps.relocate(VOLUME, 2L * MapPage.ENTRIES + 100, original(2 * MapPage.ENTRIES + 100),
                changed(2 * MapPage.ENTRIES + 100), 0), "moved in the volume's frozen page and the snapshot's");

        byte[] written = bytesOf(image);
        maps.thaw(image.generation());
        MapPage thawed = MapStore.page(volume, 2);
        maps.write(VOLUME, 2L * MapPage.ENTRIES + 1, changed(2 * MapPage.ENTRIES + 1), 0);
        assertSame(thawed, MapStore.page(volume, 2), "after the thaw a page changes in place");

        MapStore loaded = load(written);
        long[] entry = new long[2];
        for (int id : new int[] {VOLUME, SNAPSHOT}) {
            for (int lba = 0; lba < BLOCKS; lba++) {
                loaded.get(id).lookup(lba, entry);
                assertEquals(original(lba), entry[0], "map " + id + " block " + lba + " in the image");
            }
        }
        // And the live maps hold every change.
        volume.lookup(1, entry);
        assertEquals(changed(1), entry[0]);
        maps.get(SNAPSHOT).lookup(1, entry);
        assertEquals(original(1), entry[0], "the snapshot keeps its block");
        for (int id : new int[] {VOLUME, SNAPSHOT}) {
            maps.get(id).lookup(7, entry);
            assertEquals(changed(7), entry[0], "map " + id + " follows the relocation");
        }
        volume.lookup(2L * MapPage.ENTRIES + 5, entry);
        assertEquals(Address.UNMAPPED, entry[0]);
        volume.lookup(2L * MapPage.ENTRIES + 100, entry);
        assertEquals(changed(2 * MapPage.ENTRIES + 100), entry[0]);
    }

    private static long original(long lba) {
        return Address.of(1 + (int) (lba / 1000), (int) (lba % 1000) * 64, 64);
    }

    private static long changed(long lba) {
        return Address.of(40 + (int) (lba / 1000), (int) (lba % 1000) * 64, 64);
    }

    /** Collects a base's pages (as the checkpoint thread does, after the capture) and writes the image. */
    private static byte[] bytesOf(Checkpoint.Image image) throws IOException {
        image.collectPages();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        image.writeTo(out);
        assertEquals(image.bytes(), out.size(), "the size known before writing is the size written");
        return out.toByteArray();
    }

    /** Loads a chain, base first, as recovery does. */
    private static MapStore load(byte[]... chain) throws IOException {
        SegmentTable segments = new SegmentTable(SEGMENTS, SEGMENT_SIZE);
        MapStore maps = new MapStore(segments);
        Checkpoint.ChainLoader loader = new Checkpoint.ChainLoader(SEGMENTS);
        for (int i = 0; i < chain.length; i++) {
            loader.read(new DataInputStream(new ByteArrayInputStream(chain[i])), i == 0 ? BASE : delta(i + 1));
        }
        loader.install(maps, segments);
        return maps;
    }

    private static Checkpoint.Link delta(int number) {
        return new Checkpoint.Link(number, number - 1, 1);
    }

    /**
     * A base's capture only freezes (issue 9: the writer must not stop for a pass over every page
     * directory): the directories are walked afterwards, while the writer goes on. Whatever the writer
     * changes between the capture and that walk — a page put in an empty slot, a whole page unmapped, a
     * write to a page shared with a snapshot, a revert, an extend and a write past the old end, a clone,
     * a map created and one deleted — the image is the state at the capture. Shown failing with the
     * directory's copy-on-write removed from {@code VolumeMap.page} (the unmap after the capture leaks
     * into the image: "map 1's blocks expected 1024 but was 513").
     */
    @Test
    void aBaseIsTheStateAtItsCaptureWhateverTheWriterChangesBeforeItsPagesAreWalked() throws IOException {
        SegmentTable segments = new SegmentTable(SEGMENTS, SEGMENT_SIZE);
        MapStore maps = new MapStore(segments);
        int other = 3;
        maps.create(VOLUME, VOLUME, 4096, BLOCKS, true, false);
        maps.create(other, other, 4096, BLOCKS, false, false);
        for (int lba = 0; lba < 2 * MapPage.ENTRIES; lba++) {      // page 2 stays empty
            maps.write(VOLUME, lba, original(lba), lba);
            maps.write(other, lba, original(lba), lba);
        }
        maps.cloneOf(SNAPSHOT, VOLUME, BLOCKS, true, true);
        Checkpoint.Image quiet = Checkpoint.capture(maps, segments, BASE, 99, 4);
        MapStore atCapture = load(bytesOf(quiet));                      // nothing changed meanwhile
        maps.thaw(quiet.generation());

        Checkpoint.Image image = Checkpoint.capture(maps, segments, BASE, 100, 4);
        maps.write(VOLUME, 2L * MapPage.ENTRIES + 3, changed(3), 3);     // a new page in an empty slot
        maps.unmap(VOLUME, MapPage.ENTRIES, MapPage.ENTRIES);           // page 1 dropped whole
        maps.write(VOLUME, 4, changed(4), 4);                           // page 0, shared with the snapshot
        maps.cloneOf(5, VOLUME, BLOCKS, true, false);
        maps.revert(VOLUME, SNAPSHOT);
        maps.resize(VOLUME, 2L * BLOCKS);
        maps.write(VOLUME, BLOCKS + 1, changed(BLOCKS + 1), 1);
        maps.delete(other);
        maps.create(6, 6, 4096, BLOCKS, false, false);
        maps.write(6, 0, changed(0), 0);
        maps.write(VOLUME, 2L * MapPage.ENTRIES + 9, changed(9), 9);

        MapStore loaded = load(bytesOf(image));
        maps.thaw(image.generation());
        assertEquals(List.of(VOLUME, SNAPSHOT, other), loaded.all().stream().map(VolumeMap::id).toList(),
                "the maps that existed at the capture");
        long[] expected = new long[2];
        long[] restored = new long[2];
        for (int id : new int[] {VOLUME, SNAPSHOT, other}) {
            assertEquals(atCapture.get(id).sizeBlocks(), loaded.get(id).sizeBlocks(), "map " + id + "'s size");
            assertEquals(atCapture.get(id).mappedBlocks(), loaded.get(id).mappedBlocks(), "map " + id + "'s blocks");
            for (long lba = 0; lba < BLOCKS; lba++) {
                atCapture.get(id).lookup(lba, expected);
                loaded.get(id).lookup(lba, restored);
                assertEquals(expected[0], restored[0], "map " + id + " block " + lba + " in the image");
            }
        }
        // The live maps went on: the revert holds, and the write after it is there.
        long[] entry = new long[2];
        maps.get(VOLUME).lookup(2L * MapPage.ENTRIES + 9, entry);
        assertEquals(changed(9), entry[0]);
        maps.get(VOLUME).lookup(4, entry);
        assertEquals(original(4), entry[0], "reverted to the snapshot");
        maps.get(5).lookup(4, entry);
        assertEquals(changed(4), entry[0], "the clone taken before the revert");
    }

    /**
     * An incremental checkpoint holds only what changed since the capture before it (issue 9, defect 4):
     * the pages written to, copied (from a snapshot's shared page or a frozen one) or moved by a
     * relocation, and the directory slots pointed elsewhere (a new page, an unmapped page, a clone's,
     * a revert's). Its capture hands out those pages and walks no clean one; loaded after its base, the
     * chain is exactly the live state. Shown failing with the change tracking removed from
     * {@code MapStore.set} (the delta loses the writes) and from {@code MapStore.slot} (the chain loses
     * the new pages).
     */
    @Test
    void aDeltaHoldsOnlyTheChangedPagesAndTheChainIsTheLiveState() throws IOException {
        SegmentTable segments = new SegmentTable(SEGMENTS, SEGMENT_SIZE);
        MapStore maps = new MapStore(segments);
        int pages = 40;
        maps.create(VOLUME, VOLUME, 4096, (long) pages * MapPage.ENTRIES, true, false);
        for (int lba = 0; lba < pages * MapPage.ENTRIES; lba += 3) {
            maps.write(VOLUME, lba, original(lba), lba);
        }
        Checkpoint.Image base = Checkpoint.capture(maps, segments, BASE, 10, 3);
        byte[] baseBytes = bytesOf(base);
        assertEquals(pages, base.pageCount());
        maps.thaw(base.generation());

        maps.write(VOLUME, 5, changed(5), 5);                                  // page 0 in place
        maps.unmap(VOLUME, 7L * MapPage.ENTRIES, MapPage.ENTRIES);              // page 7 gone
        maps.cloneOf(SNAPSHOT, VOLUME, (long) pages * MapPage.ENTRIES, true, true); // every slot, no page
        maps.write(VOLUME, 9L * MapPage.ENTRIES + 1, changed(9 * MapPage.ENTRIES + 1), 1); // page 9 copied
        Checkpoint.Image first = Checkpoint.capture(maps, segments, delta(2), 11, 3);
        assertEquals(2, first.pageCount(), "page 0, and the copy of page 9");
        byte[] firstBytes = bytesOf(first);
        maps.thaw(first.generation());

        // Page 3, shared by both maps since the clone: the block moves in that one page, in place.
        assertEquals(1, maps.relocate(VOLUME, 3L * MapPage.ENTRIES, original(3 * MapPage.ENTRIES),
                changed(3 * MapPage.ENTRIES), 0));
        maps.write(VOLUME, 12L * MapPage.ENTRIES, changed(12 * MapPage.ENTRIES), 0); // page 12 copied from shared
        maps.delete(SNAPSHOT);
        Checkpoint.Image second = Checkpoint.capture(maps, segments, delta(3), 12, 3);
        assertEquals(2, second.pageCount(), "page 3 and the copy of page 12");
        byte[] secondBytes = bytesOf(second);
        maps.thaw(second.generation());
        assertTrue(secondBytes.length < baseBytes.length / 4, secondBytes.length + " bytes, the base " + baseBytes.length);

        MapStore loaded = load(baseBytes, firstBytes, secondBytes);
        assertEquals(maps.all().stream().map(VolumeMap::id).toList(), loaded.all().stream().map(VolumeMap::id).toList());
        long[] live = new long[2];
        long[] restored = new long[2];
        for (long lba = 0; lba < (long) pages * MapPage.ENTRIES; lba++) {
            maps.get(VOLUME).lookup(lba, live);
            loaded.get(VOLUME).lookup(lba, restored);
            assertEquals(live[0], restored[0], "block " + lba + "'s address");
            if (live[0] != Address.UNMAPPED) {
                assertEquals(live[1], restored[1], "block " + lba + "'s CRC");
            }
        }
        assertEquals(maps.get(VOLUME).mappedBlocks(), loaded.get(VOLUME).mappedBlocks());
        assertEquals(maps.get(VOLUME).storedBytes(), loaded.get(VOLUME).storedBytes());
    }
}
