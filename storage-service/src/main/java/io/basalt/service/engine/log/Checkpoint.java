package io.basalt.service.engine.log;

import io.basalt.service.engine.map.MapPage;
import io.basalt.service.engine.map.MapStore;
import io.basalt.service.engine.map.VolumeMap;
import io.basalt.service.files.AtomicFiles;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * A complete image of the maps and segment states as of one log sequence number, so recovery only
 * replays the batches written after it. Big-endian, CRC32C at the end; replaced atomically.
 *
 * <pre>
 * "BSLTCKPT" u32 format u64 sequence u32 next map id u32 segment count
 * per segment: u8 state (0 free, 1 open, 2 sealed) u64 written bytes u64 last sequence
 * u32 lineage count, per entry: u32 map id u32 lineage          (deleted maps included)
 * u32 page count, per page: u32 page id u16 mapped entries, per entry: u16 index u64 address u32 crc
 * u32 map count, per map: u32 id u32 lineage u32 block size u64 size in blocks u8 compressed u8 read-only
 *                          u32 directory length, per slot: i32 page id or -1
 * u32 CRC32C of everything before it
 * </pre>
 */
public final class Checkpoint {
    static final String FILE = "checkpoint";
    private static final long MAGIC = 0x42534c54434b5054L; // "BSLTCKPT"
    private static final int FORMAT = 1;

    private Checkpoint() {
    }

    /** What {@link #load} restored. */
    public record Loaded(long sequence, int nextMapId, int openSegment) {
    }

    public static Path file(Path directory) {
        return directory.resolve(FILE);
    }

    /** Serialises the current state. Writer thread, under the engine lock. */
    public static byte[] capture(MapStore maps, SegmentTable segments, long sequence, int nextMapId) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 16);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeLong(MAGIC);
            out.writeInt(FORMAT);
            out.writeLong(sequence);
            out.writeInt(nextMapId);
            out.writeInt(segments.count());
            for (int s = 0; s < segments.count(); s++) {
                SegmentTable.State state = segments.state(s);
                int code = switch (state) {
                    case FREE, EMPTY -> 0;
                    case OPEN -> 1;
                    case SEALED, RELOCATING -> 2;
                };
                out.writeByte(code);
                out.writeLong(code == 0 ? 0 : segments.written(s));
                out.writeLong(code == 0 ? 0 : segments.lastSequence(s));
            }
            Map<Integer, Integer> lineages = maps.lineages();
            out.writeInt(lineages.size());
            for (Map.Entry<Integer, Integer> e : lineages.entrySet()) {
                out.writeInt(e.getKey());
                out.writeInt(e.getValue());
            }
            Map<MapPage, Integer> pageIds = new IdentityHashMap<>();
            ByteArrayOutputStream pageBytes = new ByteArrayOutputStream(1 << 16);
            DataOutputStream pagesOut = new DataOutputStream(pageBytes);
            maps.forEachDistinctPage(page -> writePage(page, pageIds, pagesOut));
            out.writeInt(pageIds.size());
            pageBytes.writeTo(out);
            out.writeInt(maps.all().size());
            for (VolumeMap map : maps.all()) {
                out.writeInt(map.id());
                out.writeInt(map.lineage());
                out.writeInt(map.blockSize());
                out.writeLong(map.sizeBlocks());
                out.writeByte(map.compressed() ? 1 : 0);
                out.writeByte(map.readOnly() ? 1 : 0);
                int slots = MapStore.pageCount(map);
                out.writeInt(slots);
                for (int p = 0; p < slots; p++) {
                    MapPage page = MapStore.page(map, p);
                    out.writeInt(page == null ? -1 : pageIds.get(page));
                }
            }
            out.flush();
            CRC32C crc = new CRC32C();
            byte[] body = bytes.toByteArray();
            crc.update(body);
            ByteBuffer result = ByteBuffer.allocate(body.length + 4).put(body).putInt((int) crc.getValue());
            return result.array();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writePage(MapPage page, Map<MapPage, Integer> ids, DataOutputStream out) {
        try {
            int id = ids.size();
            ids.put(page, id);
            out.writeInt(id);
            out.writeShort(page.mapped());
            for (int e = 0; e < MapPage.ENTRIES; e++) {
                long address = page.address(e);
                if (address != 0) {
                    out.writeShort(e);
                    out.writeLong(address);
                    out.writeInt(MapStore.crcOf(page, e));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void write(Path directory, byte[] content) throws IOException {
        Files.createDirectories(directory);
        AtomicFiles.write(file(directory), content);
    }

    /**
     * Loads the checkpoint into empty maps and segments; empty if there is none.
     *
     * @throws IOException if the file exists but is damaged
     */
    public static Optional<Loaded> load(Path directory, MapStore maps, SegmentTable segments) throws IOException {
        Path file = file(directory);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        byte[] content = Files.readAllBytes(file);
        if (content.length < 4) {
            throw new IOException("checkpoint " + file + " is truncated");
        }
        CRC32C crc = new CRC32C();
        crc.update(content, 0, content.length - 4);
        if ((int) crc.getValue() != ByteBuffer.wrap(content, content.length - 4, 4).getInt()) {
            throw new IOException("checkpoint " + file + " fails its checksum");
        }
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(content, 0, content.length - 4));
        if (in.readLong() != MAGIC || in.readInt() != FORMAT) {
            throw new IOException("checkpoint " + file + " is not a Basalt checkpoint of format " + FORMAT);
        }
        long sequence = in.readLong();
        int nextMapId = in.readInt();
        int segmentCount = in.readInt();
        if (segmentCount != segments.count()) {
            throw new IOException("checkpoint " + file + " describes " + segmentCount + " segments, the drives have "
                    + segments.count() + "; drives must not be added, removed or resized");
        }
        int openSegment = -1;
        for (int s = 0; s < segmentCount; s++) {
            int state = in.readByte();
            long written = in.readLong();
            long last = in.readLong();
            if (state == 1) {
                openSegment = s;
                segments.restore(s, SegmentTable.State.OPEN, written, last);
            } else if (state == 2) {
                segments.restore(s, SegmentTable.State.SEALED, written, last);
            }
        }
        int lineages = in.readInt();
        for (int i = 0; i < lineages; i++) {
            maps.rememberLineage(in.readInt(), in.readInt());
        }
        int pageCount = in.readInt();
        Map<Integer, MapPage> pages = new HashMap<>();
        for (int i = 0; i < pageCount; i++) {
            int id = in.readInt();
            int mapped = in.readUnsignedShort();
            MapPage page = MapStore.newPage();
            for (int e = 0; e < mapped; e++) {
                MapStore.restoreEntry(page, in.readUnsignedShort(), in.readLong(), in.readInt());
            }
            pages.put(id, page);
        }
        int mapCount = in.readInt();
        Map<MapPage, Boolean> used = new IdentityHashMap<>();
        for (int i = 0; i < mapCount; i++) {
            int id = in.readInt();
            int lineage = in.readInt();
            int blockSize = in.readInt();
            long size = in.readLong();
            boolean compressed = in.readByte() != 0;
            boolean readOnly = in.readByte() != 0;
            maps.create(id, lineage, blockSize, size, compressed, readOnly);
            int slots = in.readInt();
            for (int p = 0; p < slots; p++) {
                int pageId = in.readInt();
                if (pageId >= 0) {
                    MapPage page = pages.get(pageId);
                    maps.install(id, p, page, used.put(page, Boolean.TRUE) == null);
                }
            }
        }
        maps.recountReferences();
        return Optional.of(new Loaded(sequence, nextMapId, openSegment));
    }
}
