package io.basalt.service.engine.log;

import io.basalt.service.engine.map.MapPage;
import io.basalt.service.engine.map.MapStore;
import io.basalt.service.engine.map.VolumeMap;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The maps and segment states as of one log sequence number, so recovery only replays the batches
 * written after it. A <em>base</em> holds every map page; a <em>delta</em> holds only the pages that
 * changed and the directory slots that were pointed elsewhere since the checkpoint before it (its
 * <em>previous</em>), so recovery loads a chain: a base, then its deltas in order. Stored on the
 * drives by {@link CheckpointSegments}. Big-endian:
 *
 * <pre>
 * "BSLTCKPT" u32 format (2) u8 kind (0 base, 1 delta) u64 number u64 previous u64 base u64 log sequence
 * u32 next map id u64 next page id
 * u32 segment count, per segment: u8 state (0 free, 1 open, 2 sealed) u64 written bytes u64 last sequence
 * u32 lineage count, per entry: u32 map id u32 lineage          (deleted maps included)
 * u32 page count, per page: u64 page id u16 mapped entries, per entry: u16 index u64 address u32 crc
 * u32 map count (every map that exists), per map: u32 id u32 lineage u32 block size u64 size in blocks
 *     u8 compressed u8 read-only u32 recorded slots, per slot: u32 slot u64 page id (0: none)
 * </pre>
 *
 * A base records every slot that holds a page; a delta the slots changed since its previous. A map
 * missing from a delta was deleted. Page ids are never reused within a chain (a copied page gets a new
 * one), so a delta's page replaces the earlier content of that id.
 */
public final class Checkpoint {
    private static final long MAGIC = 0x42534c54434b5054L; // "BSLTCKPT"
    private static final int FORMAT = 2;
    private static final int HEADER_BYTES = 8 + 4 + 1 + 8 * 4 + 4 + 8;
    private static final int SEGMENT_BYTES = 1 + 8 + 8;
    private static final int MAP_BYTES = 4 + 4 + 4 + 8 + 1 + 1 + 4;
    private static final int SLOT_BYTES = 4 + 8;
    private static final int PAGE_BYTES = 8 + 2;
    private static final int ENTRY_BYTES = 2 + 8 + 4;
    /** A map's size in blocks is at most this (2^40 blocks), so a directory fits an array. */
    private static final long MAX_BLOCKS = 1L << 40;

    private Checkpoint() {
    }

    /** Where a checkpoint stands in its chain: its own number, its previous' (0 for a base) and its base's. */
    public record Link(long number, long previous, long base) {
        public boolean isBase() {
            return previous == 0;
        }
    }

    /** What loading a checkpoint (chain or legacy file) restored. */
    public record Loaded(long sequence, int nextMapId) {
    }

    /**
     * A consistent image of the state, cheap to take on the writer thread: the pages it holds are not
     * copied but frozen ({@link MapStore#freezeAll}, {@link MapStore#freezeChanged}), so the writer
     * copies such a page only if it changes it before {@link #writeTo} has streamed the image out on
     * another thread. A base's frozen page directories are walked by {@link #collectPages}, on the
     * thread that writes the image, not under the engine lock. The pages must be thawed
     * ({@link MapStore#thaw} of {@link #generation}) on the writer thread once the image is written or
     * given up.
     */
    public static final class Image {
        private final Link link;
        private final long sequence;
        private final int nextMapId;
        private final long nextPageId;
        private final byte[] segmentStates;
        private final long[] segmentWritten;
        private final long[] segmentLast;
        private final Map<Integer, Integer> lineages;
        private final List<MapPage> pages = new ArrayList<>();
        /** Every map as it was at the capture. */
        private final List<MapHeader> maps = new ArrayList<>();
        /** A base's: every map's page directory at the capture, frozen, until {@link #collectPages}. */
        private List<AtomicReferenceArray<MapPage>> directories;
        /** Per map: the recorded slots and, at the same index, the page id each pointed at (0: none). */
        private final List<int[]> slots = new ArrayList<>();
        private final List<long[]> slotPages = new ArrayList<>();
        private int generation;
        /** Known at the capture for a delta, after {@link #collectPages} for a base. */
        private long bytes;

        private Image(Link link, long sequence, int nextMapId, long nextPageId, int segmentCount,
                      Map<Integer, Integer> lineages) {
            this.link = link;
            this.sequence = sequence;
            this.nextMapId = nextMapId;
            this.nextPageId = nextPageId;
            this.segmentStates = new byte[segmentCount];
            this.segmentWritten = new long[segmentCount];
            this.segmentLast = new long[segmentCount];
            this.lineages = lineages;
        }

        public Link link() {
            return link;
        }

        public long sequence() {
            return sequence;
        }

        /** The generation the image's pages are frozen in. */
        public int generation() {
            return generation;
        }

        /** Pages the image holds: every page for a base, the changed ones for a delta. */
        public int pageCount() {
            collected();
            return pages.size();
        }

        /** Exactly what {@link #writeTo} writes, known before it is written so the space can be taken first. */
        public long bytes() {
            collected();
            return bytes;
        }

        /**
         * A base's pass over the page directories frozen at the capture: each distinct page once, and
         * every slot that holds one. Any thread, while the image is frozen (before {@link MapStore#thaw});
         * the writer goes on meanwhile. Nothing to do for a delta, which took its pages at the capture.
         */
        public void collectPages() {
            if (directories == null) {
                return;
            }
            Set<MapPage> seen = Collections.newSetFromMap(new IdentityHashMap<>());
            for (AtomicReferenceArray<MapPage> directory : directories) {
                int held = 0;
                for (int p = 0; p < directory.length(); p++) {
                    held += directory.get(p) == null ? 0 : 1;
                }
                int[] recorded = new int[held];
                long[] ids = new long[held];
                int k = 0;
                for (int p = 0; p < directory.length(); p++) {
                    MapPage page = directory.get(p);
                    if (page != null) {
                        recorded[k] = p;
                        ids[k++] = page.id();
                        if (seen.add(page)) {
                            pages.add(page);
                            bytes += PAGE_BYTES + (long) ENTRY_BYTES * page.mapped();
                        }
                    }
                }
                slots.add(recorded);
                slotPages.add(ids);
                bytes += (long) SLOT_BYTES * held;
            }
            directories = null;
        }

        private void collected() {
            if (directories != null) {
                throw new IllegalStateException("a base image's pages are not collected yet");
            }
        }

        /** Writes the image, streamed: its size is not bounded by an array's. */
        public void writeTo(OutputStream target) throws IOException {
            collected();
            DataOutputStream out = new DataOutputStream(target);
            out.writeLong(MAGIC);
            out.writeInt(FORMAT);
            out.writeByte(link.isBase() ? 0 : 1);
            out.writeLong(link.number());
            out.writeLong(link.previous());
            out.writeLong(link.base());
            out.writeLong(sequence);
            out.writeInt(nextMapId);
            out.writeLong(nextPageId);
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
            for (MapPage page : pages) {
                out.writeLong(page.id());
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
                MapHeader map = maps.get(i);
                out.writeInt(map.id());
                out.writeInt(map.lineage());
                out.writeInt(map.blockSize());
                out.writeLong(map.sizeBlocks());
                out.writeByte(map.compressed() ? 1 : 0);
                out.writeByte(map.readOnly() ? 1 : 0);
                int[] recorded = slots.get(i);
                long[] ids = slotPages.get(i);
                out.writeInt(recorded.length);
                for (int k = 0; k < recorded.length; k++) {
                    out.writeInt(recorded[k]);
                    out.writeLong(ids[k]);
                }
            }
            out.flush();
        }
    }

    /**
     * Captures the current state. A delta takes only what changed since the last capture: O(changed
     * pages + maps + segments). A base ({@code link.isBase()}) freezes every page and page directory
     * (O(maps + segments)) and leaves the pass over them to {@link Image#collectPages}, outside the
     * lock. Writer thread (or a stopped writer), under the engine lock.
     */
    public static Image capture(MapStore maps, SegmentTable segments, Link link, long sequence, int nextMapId) {
        Image image = new Image(link, sequence, nextMapId, maps.nextPageId(), segments.count(), maps.lineages());
        for (int s = 0; s < segments.count(); s++) {
            byte code = switch (segments.state(s)) {
                case FREE, EMPTY, CHECKPOINT -> 0;
                case OPEN -> 1;
                case SEALED, RELOCATING -> 2;
            };
            image.segmentStates[s] = code;
            image.segmentWritten[s] = code == 0 ? 0 : segments.written(s);
            image.segmentLast[s] = code == 0 ? 0 : segments.lastSequence(s);
        }
        long bytes = HEADER_BYTES + 4 + (long) segments.count() * SEGMENT_BYTES + 4 + 8L * image.lineages.size() + 4 + 4;
        for (VolumeMap map : maps.all()) {
            image.maps.add(new MapHeader(map.id(), map.lineage(), map.blockSize(), map.sizeBlocks(),
                    map.compressed(), map.readOnly()));
            bytes += MAP_BYTES;
        }
        if (link.isBase()) {
            image.directories = new ArrayList<>(image.maps.size());
            image.generation = maps.freezeAll(image.directories::add);
            image.bytes = bytes;
            return image;
        }
        image.generation = maps.freezeChanged(image.pages::add);
        for (MapPage page : image.pages) {
            bytes += PAGE_BYTES + (long) ENTRY_BYTES * page.mapped();
        }
        for (VolumeMap map : maps.all()) {
            BitSet changed = MapStore.takeChangedSlots(map);
            int pageCount = MapStore.pageCount(map);
            int[] recorded = changed.stream().filter(p -> p < pageCount).toArray();
            long[] ids = new long[recorded.length];
            for (int k = 0; k < recorded.length; k++) {
                MapPage page = MapStore.page(map, recorded[k]);
                ids[k] = page == null ? 0 : page.id();
            }
            image.slots.add(recorded);
            image.slotPages.add(ids);
            bytes += (long) SLOT_BYTES * recorded.length;
        }
        image.bytes = bytes;
        return image;
    }

    /** Recovery: a segment's state as a checkpoint recorded it. */
    static void restoreSegment(SegmentTable segments, int segment, int state, long written, long last) {
        if (state == 1) {
            segments.restore(segment, SegmentTable.State.OPEN, written, last);
        } else if (state == 2) {
            segments.restore(segment, SegmentTable.State.SEALED, written, last);
        }
    }

    /** A map's header as a checkpoint records it (the same in the legacy file). */
    record MapHeader(int id, int lineage, int blockSize, long sizeBlocks, boolean compressed, boolean readOnly) {
        static MapHeader read(DataInputStream in) throws IOException {
            return new MapHeader(in.readInt(), in.readInt(), in.readInt(), in.readLong(), in.readByte() != 0,
                    in.readByte() != 0);
        }

        void create(MapStore maps) {
            maps.create(id, lineage, blockSize, sizeBlocks, compressed, readOnly);
        }
    }

    /** Reads a page's entries (u16 mapped, then per entry u16 index u64 address u32 crc) into an empty page. */
    static void readEntries(DataInputStream in, MapPage page, String what) throws IOException {
        int mapped = in.readUnsignedShort();
        if (mapped > MapPage.ENTRIES) {
            throw new IOException(what + " is damaged: a page with " + mapped + " entries");
        }
        for (int e = 0; e < mapped; e++) {
            int index = in.readUnsignedShort();
            if (index >= MapPage.ENTRIES) {
                throw new IOException(what + " is damaged: page entry " + index);
            }
            MapStore.restoreEntry(page, index, in.readLong(), in.readInt());
        }
    }

    /**
     * Loads a chain, base first, into memory, then installs it into empty maps. Holds the pages the
     * chain names (a page replaced by a later delta is dropped) and one array of page ids per map.
     */
    static final class ChainLoader {
        private record MapState(MapHeader header, long[] directory) {
        }

        private final int segmentCount;
        private final Map<Long, MapPage> pages = new HashMap<>();
        private Map<Integer, MapState> maps = new TreeMap<>();
        private final Map<Integer, Integer> lineages = new HashMap<>();
        private byte[] states;
        private long[] written;
        private long[] last;
        private long sequence;
        private int nextMapId;
        private long nextPageId;
        private long expectedPrevious;

        ChainLoader(int segmentCount) {
            this.segmentCount = segmentCount;
        }

        /** Reads the chain's next checkpoint, which must be {@code link}. */
        void read(DataInputStream in, Link link) throws IOException {
            String what = "checkpoint " + link.number();
            if (in.readLong() != MAGIC || in.readInt() != FORMAT) {
                throw new IOException(what + " is not a Basalt checkpoint of format " + FORMAT);
            }
            boolean base = in.readByte() == 0;
            if (base != link.isBase() || in.readLong() != link.number() || in.readLong() != link.previous()
                    || in.readLong() != link.base() || (!base && link.previous() != expectedPrevious)) {
                throw new IOException(what + " does not match the chain it was found in");
            }
            expectedPrevious = link.number();
            sequence = in.readLong();
            nextMapId = in.readInt();
            nextPageId = in.readLong();
            int count = in.readInt();
            if (count != segmentCount) {
                throw new IOException(what + " describes " + count + " segments, the drives have " + segmentCount
                        + "; drives must not be added, removed or resized");
            }
            states = new byte[count];
            written = new long[count];
            last = new long[count];
            for (int s = 0; s < count; s++) {
                states[s] = in.readByte();
                written[s] = in.readLong();
                last[s] = in.readLong();
            }
            int lineageCount = in.readInt();
            for (int i = 0; i < lineageCount; i++) {
                lineages.put(in.readInt(), in.readInt());
            }
            if (base) {
                pages.clear();
            }
            int pageCount = in.readInt();
            for (int i = 0; i < pageCount; i++) {
                MapPage page = MapStore.loadedPage(in.readLong());
                readEntries(in, page, what);
                pages.put(page.id(), page);
            }
            Map<Integer, MapState> next = new TreeMap<>();
            int mapCount = in.readInt();
            for (int i = 0; i < mapCount; i++) {
                MapHeader header = MapHeader.read(in);
                int id = header.id();
                long size = header.sizeBlocks();
                if (size < 0 || size > MAX_BLOCKS) {
                    throw new IOException(what + " is damaged: map " + id + " has " + size + " blocks");
                }
                int length = (int) ((size + MapPage.MASK) >>> MapPage.SHIFT);
                MapState earlier = base ? null : maps.get(id);
                long[] directory = earlier == null ? new long[length]
                        : java.util.Arrays.copyOf(earlier.directory(), length);
                int recorded = in.readInt();
                if (recorded < 0 || recorded > length) {
                    throw new IOException(what + " is damaged: map " + id + " records " + recorded + " slots");
                }
                for (int k = 0; k < recorded; k++) {
                    int slot = in.readInt();
                    long page = in.readLong();
                    if (slot < 0 || slot >= length) {
                        throw new IOException(what + " is damaged: map " + id + " slot " + slot);
                    }
                    directory[slot] = page;
                }
                next.put(id, new MapState(header, directory));
            }
            maps = next;
        }

        /** Installs what the chain holds into empty maps and segments. */
        Loaded install(MapStore store, SegmentTable segments) throws IOException {
            for (int s = 0; s < segmentCount; s++) {
                restoreSegment(segments, s, states[s], written[s], last[s]);
            }
            lineages.forEach(store::rememberLineage);
            Map<MapPage, Boolean> used = new IdentityHashMap<>();
            for (MapState map : maps.values()) {
                map.header().create(store);
                int mapId = map.header().id();
                for (int p = 0; p < map.directory().length; p++) {
                    long id = map.directory()[p];
                    if (id != 0) {
                        MapPage page = pages.get(id);
                        if (page == null) {
                            throw new IOException("checkpoint chain is damaged: map " + mapId + " names page " + id);
                        }
                        store.install(mapId, p, page, used.put(page, Boolean.TRUE) == null);
                    }
                }
            }
            pages.clear();
            store.continuePageIds(nextPageId);
            store.recountReferences();
            return new Loaded(sequence, nextMapId);
        }
    }
}
