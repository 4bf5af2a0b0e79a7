package io.basalt.service.engine.log;

import io.basalt.service.engine.drive.MetadataFiles;
import io.basalt.service.engine.map.Address;
import io.basalt.service.engine.map.MapPage;
import io.basalt.service.engine.map.MapStore;
import io.basalt.service.engine.map.VolumeMap;
import io.basalt.service.files.AtomicFiles;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

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

        Checkpoint.Image image = Checkpoint.capture(maps, segments, 100, 3);
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

        InMemoryFiles files = new InMemoryFiles();
        Checkpoint.write(files, image);
        maps.thaw(image.generation());
        MapPage thawed = MapStore.page(volume, 2);
        maps.write(VOLUME, 2L * MapPage.ENTRIES + 1, changed(2 * MapPage.ENTRIES + 1), 0);
        assertSame(thawed, MapStore.page(volume, 2), "after the thaw a page changes in place");

        SegmentTable loadedSegments = new SegmentTable(SEGMENTS, SEGMENT_SIZE);
        MapStore loaded = new MapStore(loadedSegments);
        Checkpoint.load(files, loaded, loadedSegments);
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

    private static final class InMemoryFiles implements MetadataFiles {
        private final Map<String, byte[]> files = new HashMap<>();

        @Override
        public InputStream read(String name) {
            byte[] content = files.get(name);
            return content == null ? null : new ByteArrayInputStream(content);
        }

        @Override
        public void replace(String name, AtomicFiles.Content content) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            content.writeTo(out);
            files.put(name, out.toByteArray());
        }
    }
}
