package io.basalt.service.engine.log;

import io.basalt.service.engine.map.MapPage;
import io.basalt.service.engine.map.MapStore;
import io.basalt.service.engine.map.VolumeMap;
import io.basalt.service.engine.drive.MetadataFiles;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

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

    /**
     * A consistent image of the state, cheap to take on the writer thread: the map pages are not copied
     * but frozen ({@link MapStore#freezePages}), so the writer copies a page only if it changes it before
     * {@link #writeTo} has streamed the image into the file on another thread. The pages must be thawed
     * ({@link MapStore#thaw} of {@link #generation}) on the writer thread once the image is written.
     */
    public static final class Image {
        private final long sequence;
        private final int nextMapId;
        private final byte[] segmentStates;
        private final long[] segmentWritten;
        private final long[] segmentLast;
        private final Map<Integer, Integer> lineages;
        private final List<MapPage> pages = new ArrayList<>();
        private final List<VolumeMap> maps = new ArrayList<>();
        private final List<int[]> directories = new ArrayList<>();
        private int generation;

        private Image(long sequence, int nextMapId, int segmentCount, Map<Integer, Integer> lineages) {
            this.sequence = sequence;
            this.nextMapId = nextMapId;
            this.segmentStates = new byte[segmentCount];
            this.segmentWritten = new long[segmentCount];
            this.segmentLast = new long[segmentCount];
            this.lineages = lineages;
        }

        public long sequence() {
            return sequence;
        }

        /** The generation the image's pages are frozen in. */
        public int generation() {
            return generation;
        }

        /** Writes the checkpoint file's content, streamed: its size is not bounded by an array's. */
        public void writeTo(OutputStream target) throws IOException {
            CRC32C crc = new CRC32C();
            DataOutputStream out = new DataOutputStream(new CheckedOutputStream(target, crc));
            out.writeLong(MAGIC);
            out.writeInt(FORMAT);
            out.writeLong(sequence);
            out.writeInt(nextMapId);
            out.writeInt(segmentStates.length);
            for (int s = 0; s < segmentStates.length; s++) {
                out.writeByte(segmentStates[s]);
                out.writeLong(segmentWritten[s]);
                out.writeLong(segmentLast[s]);
            }
            out.writeInt(lineages.size());
            for (Map.Entry<Integer, Integer> lineage : lineages.entrySet()) {
                out.writeInt(lineage.getKey());
                out.writeInt(lineage.getValue());
            }
            out.writeInt(pages.size());
            for (int id = 0; id < pages.size(); id++) {
                MapPage page = pages.get(id);
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
            }
            out.writeInt(maps.size());
            for (int i = 0; i < maps.size(); i++) {
                VolumeMap map = maps.get(i);
                out.writeInt(map.id());
                out.writeInt(map.lineage());
                out.writeInt(map.blockSize());
                out.writeLong(map.sizeBlocks());
                out.writeByte(map.compressed() ? 1 : 0);
                out.writeByte(map.readOnly() ? 1 : 0);
                int[] directory = directories.get(i);
                out.writeInt(directory.length);
                for (int pageId : directory) {
                    out.writeInt(pageId);
                }
            }
            out.flush();
            // The CRC goes outside the checked stream: it covers everything before it.
            new DataOutputStream(target).writeInt((int) crc.getValue());
        }
    }

    /** Captures the current state. Writer thread (or a stopped writer), under the engine lock. */
    public static Image capture(MapStore maps, SegmentTable segments, long sequence, int nextMapId) {
        Image image = new Image(sequence, nextMapId, segments.count(), maps.lineages());
        for (int s = 0; s < segments.count(); s++) {
            byte code = switch (segments.state(s)) {
                case FREE, EMPTY -> 0;
                case OPEN -> 1;
                case SEALED, RELOCATING -> 2;
            };
            image.segmentStates[s] = code;
            image.segmentWritten[s] = code == 0 ? 0 : segments.written(s);
            image.segmentLast[s] = code == 0 ? 0 : segments.lastSequence(s);
        }
        Map<MapPage, Integer> pageIds = new IdentityHashMap<>();
        image.generation = maps.freezePages(page -> {
            pageIds.put(page, image.pages.size());
            image.pages.add(page);
        });
        for (VolumeMap map : maps.all()) {
            int[] directory = new int[MapStore.pageCount(map)];
            for (int p = 0; p < directory.length; p++) {
                MapPage page = MapStore.page(map, p);
                directory[p] = page == null ? -1 : pageIds.get(page);
            }
            image.maps.add(map);
            image.directories.add(directory);
        }
        return image;
    }

    public static void write(MetadataFiles files, Image image) throws IOException {
        files.replace(FILE, image::writeTo);
    }

    /**
     * Loads the checkpoint into empty maps and segments; empty if there is none.
     *
     * @throws IOException if the file exists but is damaged
     */
    public static Optional<Loaded> load(MetadataFiles files, MapStore maps, SegmentTable segments) throws IOException {
        String file = FILE;
        InputStream content = files.read(FILE);
        if (content == null) {
            return Optional.empty();
        }
        try (content) {
            CRC32C crc = new CRC32C();
            DataInputStream in = new DataInputStream(new CheckedInputStream(content, crc));
            Loaded loaded = load(in, file, maps, segments);
            long expected = crc.getValue();
            // A damaged file fails here at the latest; the engine then refuses to start.
            if ((int) expected != new DataInputStream(content).readInt() || content.read() != -1) {
                throw new IOException("checkpoint " + file + " fails its checksum");
            }
            return Optional.of(loaded);
        } catch (EOFException e) {
            throw new IOException("checkpoint " + file + " is truncated", e);
        }
    }

    private static Loaded load(DataInputStream in, String file, MapStore maps, SegmentTable segments)
            throws IOException {
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
            if (mapped > MapPage.ENTRIES) {
                throw new IOException("checkpoint " + file + " is damaged: a page with " + mapped + " entries");
            }
            MapPage page = MapStore.newPage();
            for (int e = 0; e < mapped; e++) {
                int index = in.readUnsignedShort();
                if (index >= MapPage.ENTRIES) {
                    throw new IOException("checkpoint " + file + " is damaged: page entry " + index);
                }
                MapStore.restoreEntry(page, index, in.readLong(), in.readInt());
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
                    if (page == null) {
                        throw new IOException("checkpoint " + file + " is damaged: map " + id + " names page " + pageId);
                    }
                    maps.install(id, p, page, used.put(page, Boolean.TRUE) == null);
                }
            }
        }
        maps.recountReferences();
        return new Loaded(sequence, nextMapId, openSegment);
    }
}
