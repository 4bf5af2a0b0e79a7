package io.basalt.service.engine.log;

import io.basalt.service.engine.drive.MetadataFiles;
import io.basalt.service.engine.map.MapPage;
import io.basalt.service.engine.map.MapStore;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;

/**
 * The checkpoint file that Basalt kept in the data directory before checkpoints moved to the drives
 * (drive format 2): read once, when a node upgraded from it finds no checkpoint on its drives; the
 * engine's first checkpoint then goes to the drives and the file is deleted. Big-endian, CRC32C at
 * the end.
 *
 * <pre>
 * "BSLTCKPT" u32 format (1) u64 sequence u32 next map id u32 segment count
 * per segment: u8 state (0 free, 1 open, 2 sealed) u64 written bytes u64 last sequence
 * u32 lineage count, per entry: u32 map id u32 lineage          (deleted maps included)
 * u32 page count, per page: u32 page id u16 mapped entries, per entry: u16 index u64 address u32 crc
 * u32 map count, per map: u32 id u32 lineage u32 block size u64 size in blocks u8 compressed u8 read-only
 *                          u32 directory length, per slot: i32 page id or -1
 * u32 CRC32C of everything before it
 * </pre>
 */
public final class LegacyCheckpointFile {
    /** Its name in the data directory's engine folder. */
    public static final String FILE = "checkpoint";
    private static final long MAGIC = 0x42534c54434b5054L; // "BSLTCKPT"
    private static final int FORMAT = 1;

    private LegacyCheckpointFile() {
    }

    /**
     * Loads the file into empty maps and segments; empty if there is none.
     *
     * @throws IOException if the file exists but is damaged
     */
    static java.util.Optional<Checkpoint.Loaded> load(MetadataFiles files, MapStore maps, SegmentTable segments)
            throws IOException {
        InputStream content = files.read(FILE);
        if (content == null) {
            return java.util.Optional.empty();
        }
        try (content) {
            CRC32C crc = new CRC32C();
            DataInputStream in = new DataInputStream(new CheckedInputStream(content, crc));
            Checkpoint.Loaded loaded = load(in, maps, segments);
            long expected = crc.getValue();
            // A damaged file fails here at the latest; the engine then refuses to start.
            if ((int) expected != new DataInputStream(content).readInt() || content.read() != -1) {
                throw new IOException("checkpoint " + FILE + " fails its checksum");
            }
            return java.util.Optional.of(loaded);
        } catch (EOFException e) {
            throw new IOException("checkpoint " + FILE + " is truncated", e);
        }
    }

    private static Checkpoint.Loaded load(DataInputStream in, MapStore maps, SegmentTable segments)
            throws IOException {
        if (in.readLong() != MAGIC || in.readInt() != FORMAT) {
            throw new IOException("checkpoint " + FILE + " is not a Basalt checkpoint of format " + FORMAT);
        }
        long sequence = in.readLong();
        int nextMapId = in.readInt();
        int segmentCount = in.readInt();
        if (segmentCount != segments.count()) {
            throw new IOException("checkpoint " + FILE + " describes " + segmentCount + " segments, the drives have "
                    + segments.count() + "; drives must not be added, removed or resized");
        }
        for (int s = 0; s < segmentCount; s++) {
            Checkpoint.restoreSegment(segments, s, in.readByte(), in.readLong(), in.readLong());
        }
        int lineages = in.readInt();
        for (int i = 0; i < lineages; i++) {
            maps.rememberLineage(in.readInt(), in.readInt());
        }
        int pageCount = in.readInt();
        Map<Integer, MapPage> pages = new HashMap<>();
        for (int i = 0; i < pageCount; i++) {
            int id = in.readInt();
            MapPage page = maps.newPage();
            Checkpoint.readEntries(in, page, FILE);
            pages.put(id, page);
        }
        int mapCount = in.readInt();
        Map<MapPage, Boolean> used = new IdentityHashMap<>();
        for (int i = 0; i < mapCount; i++) {
            Checkpoint.MapHeader header = Checkpoint.MapHeader.read(in);
            int id = header.id();
            header.create(maps);
            int slots = in.readInt();
            for (int p = 0; p < slots; p++) {
                int pageId = in.readInt();
                if (pageId >= 0) {
                    MapPage page = pages.get(pageId);
                    if (page == null) {
                        throw new IOException("checkpoint " + FILE + " is damaged: map " + id + " names page " + pageId);
                    }
                    maps.install(id, p, page, used.put(page, Boolean.TRUE) == null);
                }
            }
        }
        maps.recountReferences();
        return new Checkpoint.Loaded(sequence, nextMapId);
    }
}
