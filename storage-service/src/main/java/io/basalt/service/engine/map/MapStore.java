package io.basalt.service.engine.map;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * Every map of the node and the reference counts of the stored blocks they point at.
 *
 * <p>A stored block is referenced by each distinct page that holds its address. Most blocks are held
 * by exactly one page, which needs no bookkeeping; only blocks held by more pages (after a snapshot's
 * shared page was copied) are counted in {@link #extraRefs}. The {@link Liveness} listener hears when a
 * block gains its first reference and loses its last, which is what segment space accounting needs.
 *
 * <p>Not thread-safe: the engine changes it from its writer thread and guards it with a lock for
 * readers of statistics. Lookups of single blocks go through {@link VolumeMap#lookup} without locking.
 */
public final class MapStore {

    /** Hears stored blocks come alive and die. */
    public interface Liveness {
        void referenced(long address);

        void released(long address);
    }

    private final Liveness liveness;
    private final Map<Integer, VolumeMap> maps = new TreeMap<>();
    private final Map<Integer, List<VolumeMap>> lineages = new HashMap<>();
    /** Lineage of every map ever created, deleted ones included: GC finds blocks' owners through it. */
    private final Map<Integer, Integer> lineageOf = new HashMap<>();
    private final Map<Long, Integer> extraRefs = new HashMap<>();
    /** The checkpoint generation whose image still reads its pages in place; 0 when none does. */
    private int frozenGeneration;
    /** While a base image of {@link #frozenGeneration} is written: every page with a lower id is in it. */
    private long frozenBelowId;
    private int lastGeneration;
    /** Id of the next page made (see {@link MapPage#id}); never reused within a checkpoint chain. */
    private long nextPageId = 1;
    /**
     * The pages changed since the last checkpoint capture, each once: the next incremental checkpoint
     * writes exactly these, so a capture costs O(changed pages), not a walk of every directory.
     */
    private List<MapPage> changedPages = new ArrayList<>();
    private int changeEpoch = 1;

    public MapStore(Liveness liveness) {
        this.liveness = liveness;
    }

    public VolumeMap get(int id) {
        return maps.get(id);
    }

    public Collection<VolumeMap> all() {
        return maps.values();
    }

    /** The lineage a map belonged to, even after it was deleted; -1 if it never existed. */
    public int lineageOf(int id) {
        return lineageOf.getOrDefault(id, -1);
    }

    public Map<Integer, Integer> lineages() {
        return Map.copyOf(lineageOf);
    }

    public void rememberLineage(int id, int lineage) {
        lineageOf.put(id, lineage);
    }

    public VolumeMap create(int id, int lineage, int blockSize, long sizeBlocks, boolean compressed,
                            boolean readOnly) {
        if (maps.containsKey(id)) {
            throw new IllegalStateException("map " + id + " exists");
        }
        VolumeMap map = new VolumeMap(id, lineage, blockSize, sizeBlocks, compressed, readOnly);
        maps.put(id, map);
        lineages.computeIfAbsent(lineage, l -> new ArrayList<>()).add(map);
        lineageOf.put(id, lineage);
        return map;
    }

    /** A new map sharing every page of {@code source}: O(pages), no block is copied. */
    public VolumeMap cloneOf(int id, int sourceId, long sizeBlocks, boolean compressed, boolean readOnly) {
        VolumeMap source = existing(sourceId);
        VolumeMap map = create(id, source.lineage(), source.blockSize(), Math.max(sizeBlocks, source.sizeBlocks()),
                compressed, readOnly);
        sharePages(source, map);
        return map;
    }

    public void resize(int id, long sizeBlocks) {
        existing(id).resize(sizeBlocks);
    }

    public void setCompression(int id, boolean compressed) {
        existing(id).setCompressed(compressed);
    }

    public void delete(int id) {
        VolumeMap map = existing(id);
        dropPages(map);
        map.markDeleted();
        maps.remove(id);
        List<VolumeMap> family = lineages.get(map.lineage());
        family.remove(map);
        if (family.isEmpty()) {
            lineages.remove(map.lineage());
        }
    }

    /** Makes volume {@code id} hold exactly what {@code snapshotId} holds; blocks beyond it read as zeros. */
    public void revert(int id, int snapshotId) {
        VolumeMap map = existing(id);
        VolumeMap snapshot = existing(snapshotId);
        AtomicReferenceArray<MapPage> old = map.directory();
        AtomicReferenceArray<MapPage> reverted = new AtomicReferenceArray<>(old.length());
        int count = Math.min(snapshot.pageCount(), old.length());
        long blocks = 0;
        long bytes = 0;
        for (int p = 0; p < count; p++) {
            MapPage page = snapshot.page(p);
            if (page != null) {
                page.sharers++;
                reverted.set(p, page);
                blocks += page.mapped;
                bytes += page.stored;
            }
        }
        map.replacePages(reverted);
        map.allSlotsChanged();
        map.account(blocks - map.mappedBlocks(), bytes - map.storedBytes());
        for (int p = 0; p < old.length(); p++) {
            MapPage page = old.get(p);
            if (page != null) {
                drop(page);
            }
        }
        // A snapshot larger than the volume (of a grown clone of the same lineage) shares pages holding
        // blocks past the volume's end; unmap them, or they would reappear if the volume grew.
        if (snapshot.sizeBlocks() > map.sizeBlocks()) {
            unmap(id, map.sizeBlocks(), snapshot.sizeBlocks() - map.sizeBlocks());
        }
    }

    /** Points block {@code lba} of map {@code id} at a newly stored block. */
    public void write(int id, long lba, long address, int crc) {
        VolumeMap map = existing(id);
        MapPage page = writablePage(map, (int) (lba >>> MapPage.SHIFT), true);
        long previous = set(map, page, (int) (lba & MapPage.MASK), address, crc);
        liveness.referenced(address);
        if (previous != Address.UNMAPPED) {
            release(previous);
        }
    }

    /** Unmaps {@code count} blocks from {@code lba}; whole pages are dropped without being copied. */
    public void unmap(int id, long lba, long count) {
        VolumeMap map = existing(id);
        long end = Math.min(lba + count, (long) map.pageCount() << MapPage.SHIFT);
        long block = lba;
        while (block < end) {
            int pageIndex = (int) (block >>> MapPage.SHIFT);
            long pageStart = (long) pageIndex << MapPage.SHIFT;
            long pageEnd = pageStart + MapPage.ENTRIES;
            MapPage page = map.page(pageIndex);
            if (page != null && block == pageStart && end >= pageEnd) {
                slot(map, pageIndex, null);
                map.account(-page.mapped, -page.stored);
                drop(page);
            } else if (page != null) {
                long stop = Math.min(end, pageEnd);
                for (long b = block; b < stop; b++) {
                    int entry = (int) (b & MapPage.MASK);
                    if (page.address(entry) != Address.UNMAPPED) {
                        page = writablePage(map, pageIndex, false);
                        release(set(map, page, entry, Address.UNMAPPED, 0));
                    }
                }
            }
            block = pageEnd;
        }
    }

    /**
     * Moves block {@code lba} of lineage {@code lineage} from {@code from} to {@code to} in every page
     * still pointing at {@code from}. Returns how many pages were changed; 0 means the block had been
     * overwritten or unmapped meanwhile and the copy at {@code to} is dead.
     */
    public int relocate(int lineage, long lba, long from, long to, int crc) {
        List<VolumeMap> family = lineages.getOrDefault(lineage, List.of());
        int pageIndex = (int) (lba >>> MapPage.SHIFT);
        int entry = (int) (lba & MapPage.MASK);
        Set<MapPage> moved = Collections.newSetFromMap(new IdentityHashMap<>());
        Map<MapPage, MapPage> thawed = null;
        for (VolumeMap map : family) {
            MapPage page = map.page(pageIndex);
            if (page == null || page.address(entry) != from) {
                continue;
            }
            if (frozen(page)) {
                // A checkpoint image reads it: every map holding it moves to one copy, which the block
                // then moves in. The copy takes over the page's holders and blocks, so no count changes.
                if (thawed == null) {
                    thawed = new IdentityHashMap<>();
                }
                page = thawed.computeIfAbsent(page, frozenPage -> {
                    MapPage copy = copyOf(frozenPage);
                    copy.sharers = frozenPage.sharers;
                    return copy;
                });
                slot(map, pageIndex, page);
            }
            if (moved.add(page)) {
                // A relocated block keeps its stored length, so no map's totals change.
                page.set(entry, to, crc);
                changed(page);
            }
        }
        if (moved.isEmpty()) {
            return 0;
        }
        extraRefs.remove(from);
        liveness.released(from);
        liveness.referenced(to);
        if (moved.size() > 1) {
            extraRefs.put(to, moved.size() - 1);
        }
        return moved.size();
    }

    /** True if some map still points at {@code address} for block {@code lba} of {@code lineage}. */
    public boolean isLive(int lineage, long lba, long address) {
        int pageIndex = (int) (lba >>> MapPage.SHIFT);
        int entry = (int) (lba & MapPage.MASK);
        for (VolumeMap map : lineages.getOrDefault(lineage, List.of())) {
            MapPage page = map.page(pageIndex);
            if (page != null && page.address(entry) == address) {
                return true;
            }
        }
        return false;
    }

    /**
     * Stored bytes of page {@code pageIndex} of map {@code id} that no other map holds; 0 if the map or
     * page does not exist. One page at a time, so a caller walking a whole map holds the engine's lock
     * for one page's worth of work at a time and writes are never stalled for long.
     */
    public long exclusiveBytes(int id, int pageIndex) {
        VolumeMap map = maps.get(id);
        MapPage page = map == null ? null : map.page(pageIndex);
        if (page == null || page.sharers != 1) {
            return 0;
        }
        if (extraRefs.isEmpty()) {
            return page.stored;
        }
        long exclusive = 0;
        for (int e = 0; e < MapPage.ENTRIES; e++) {
            long address = page.address(e);
            if (address != Address.UNMAPPED && !extraRefs.containsKey(address)) {
                exclusive += Address.storedLength(address);
            }
        }
        return exclusive;
    }

    /** @param mappedBytes logical bytes mapped; storedBytes bytes on drives; exclusiveBytes of those, held by no other map */
    public record Usage(long mappedBytes, long storedBytes, long exclusiveBytes) {
    }

    /** Each distinct page once, for counting references after loading a checkpoint. */
    private void forEachDistinctPage(Consumer<MapPage> action) {
        Set<MapPage> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (VolumeMap map : maps.values()) {
            for (int p = 0; p < map.pageCount(); p++) {
                MapPage page = map.page(p);
                if (page != null && seen.add(page)) {
                    action.accept(page);
                }
            }
        }
    }

    /**
     * For a base checkpoint: freezes, in O(maps), everything as it is now, to be walked afterwards on
     * another thread. Every page that exists now (its id is below {@link #nextPageId}) is frozen until
     * {@link #thaw} of the returned generation, so the writer copies it before its first change, and so
     * is every map's page directory ({@link VolumeMap#freezeDirectory}: the writer copies it before it
     * first points a slot elsewhere). The directories handed to {@code action} (map by map, as
     * {@link #all} lists them) and the pages they name therefore stay as they are at this instant while
     * the image is walked and written, without the writer stopping for a pass over them.
     */
    public int freezeAll(Consumer<AtomicReferenceArray<MapPage>> action) {
        int generation = nextGeneration();
        frozenBelowId = nextPageId;
        for (VolumeMap map : maps.values()) {
            action.accept(map.freezeDirectory());
            map.takeChangedSlots();
        }
        startChangeEpoch();
        return generation;
    }

    /**
     * For an incremental checkpoint: hands out the pages changed since the last capture, frozen as by
     * {@link #freezeAll}, and starts tracking changes afresh. O(changed pages). A page changed but no
     * longer held by any map may be among them; it costs its bytes in the image and nothing else.
     */
    public int freezeChanged(Consumer<MapPage> action) {
        int generation = nextGeneration();
        for (MapPage page : changedPages) {
            page.frozenIn = generation;
            action.accept(page);
        }
        startChangeEpoch();
        return generation;
    }

    /** The directory slots of {@code map} changed since the last capture; tracking starts afresh. */
    public static java.util.BitSet takeChangedSlots(VolumeMap map) {
        return map.takeChangedSlots();
    }

    /** A new image's generation; it supersedes an earlier one that was never thawed. */
    private int nextGeneration() {
        thawDirectories();
        lastGeneration = lastGeneration == Integer.MAX_VALUE ? 1 : lastGeneration + 1;
        frozenGeneration = lastGeneration;
        return frozenGeneration;
    }

    private void thawDirectories() {
        frozenBelowId = 0;
        for (VolumeMap map : maps.values()) {
            map.thawDirectory();
        }
    }

    private void startChangeEpoch() {
        changedPages = new ArrayList<>();
        changeEpoch = changeEpoch == Integer.MAX_VALUE ? 1 : changeEpoch + 1;
    }

    /** The id the next page gets; a checkpoint records it so that ids are never reused after recovery. */
    public long nextPageId() {
        return nextPageId;
    }

    /** After loading a checkpoint chain whose pages used ids below {@code next}. */
    public void continuePageIds(long next) {
        nextPageId = Math.max(nextPageId, next);
    }

    /**
     * The image of {@code generation} is written (or given up): its pages and directories may change in
     * place again. O(maps). A later capture supersedes an earlier generation that was never thawed.
     */
    public void thaw(int generation) {
        if (frozenGeneration == generation) {
            frozenGeneration = 0;
            thawDirectories();
        }
    }

    private boolean frozen(MapPage page) {
        return frozenGeneration != 0 && (page.frozenIn == frozenGeneration || page.id < frozenBelowId);
    }

    /** Installs a page read from a checkpoint into a map, counting it as one more sharer if already installed. */
    public void install(int id, int pageIndex, MapPage page, boolean firstUse) {
        VolumeMap map = existing(id);
        if (!firstUse) {
            page.sharers++;
        }
        map.page(pageIndex, page);
        map.account(page.mapped, page.stored);
    }

    /** After loading a checkpoint: counts the references of every block held by any page. */
    public void recountReferences() {
        extraRefs.clear();
        long[][] collected = {new long[1024]};
        int[] count = {0};
        forEachDistinctPage(page -> {
            for (int e = 0; e < MapPage.ENTRIES; e++) {
                long address = page.address(e);
                if (address != Address.UNMAPPED) {
                    if (count[0] == collected[0].length) {
                        collected[0] = Arrays.copyOf(collected[0], count[0] * 2);
                    }
                    collected[0][count[0]++] = address;
                }
            }
        });
        long[] addresses = collected[0];
        Arrays.sort(addresses, 0, count[0]);
        int i = 0;
        while (i < count[0]) {
            int j = i;
            while (j + 1 < count[0] && addresses[j + 1] == addresses[i]) {
                j++;
            }
            liveness.referenced(addresses[i]);
            if (j > i) {
                extraRefs.put(addresses[i], j - i);
            }
            i = j + 1;
        }
    }

    public static int pageCount(VolumeMap map) {
        return map.pageCount();
    }

    public static MapPage page(VolumeMap map, int index) {
        return map.page(index);
    }

    /** An empty page for loading a checkpoint, with a new id. */
    public MapPage newPage() {
        MapPage page = new MapPage();
        page.id = nextPageId++;
        return page;
    }

    /** An empty page for loading a checkpoint chain, with the id the chain gave it. */
    public static MapPage loadedPage(long id) {
        MapPage page = new MapPage();
        page.id = id;
        return page;
    }

    /** Restores a page's entry from a checkpoint; the page is not yet visible to readers. */
    public static void restoreEntry(MapPage page, int entry, long address, int crc) {
        page.set(entry, address, crc);
    }

    public static int crcOf(MapPage page, int entry) {
        return page.crc(entry);
    }

    private MapPage writablePage(VolumeMap map, int pageIndex, boolean create) {
        MapPage page = map.page(pageIndex);
        if (page == null) {
            if (!create) {
                throw new IllegalStateException("no page " + pageIndex);
            }
            page = newPage();
            slot(map, pageIndex, page);
        } else if (page.sharers > 1) {
            MapPage copy = copyOf(page);
            copy.sharers = 1;
            for (int e = 0; e < MapPage.ENTRIES; e++) {
                long address = copy.address(e);
                if (address != Address.UNMAPPED) {
                    extraRefs.merge(address, 1, Integer::sum);
                }
            }
            page.sharers--;
            slot(map, pageIndex, copy);
            page = copy;
        } else if (frozen(page)) {
            // Only a checkpoint image holds the page besides this map: the copy takes over its blocks.
            MapPage copy = copyOf(page);
            slot(map, pageIndex, copy);
            page = copy;
        }
        return page;
    }

    /** A copy of {@code page} under a new id; a change since the last checkpoint. */
    private MapPage copyOf(MapPage page) {
        MapPage copy = page.copy();
        copy.id = nextPageId++;
        changed(copy);
        return copy;
    }

    /** Points a directory slot at {@code page} (or none) and remembers it for the next checkpoint. */
    private static void slot(VolumeMap map, int index, MapPage page) {
        map.page(index, page);
        map.slotChanged(index);
    }

    /** Remembers a changed page for the next checkpoint, once per capture: a field compare per write. */
    private void changed(MapPage page) {
        if (page.dirtyIn != changeEpoch) {
            page.dirtyIn = changeEpoch;
            changedPages.add(page);
        }
    }

    private void sharePages(VolumeMap source, VolumeMap target) {
        int count = Math.min(source.pageCount(), target.pageCount());
        for (int p = 0; p < count; p++) {
            MapPage page = source.page(p);
            if (page != null) {
                page.sharers++;
                slot(target, p, page);
                target.account(page.mapped, page.stored);
            }
        }
    }

    private void dropPages(VolumeMap map) {
        for (int p = 0; p < map.pageCount(); p++) {
            MapPage page = map.page(p);
            if (page != null) {
                map.page(p, null);
                map.account(-page.mapped, -page.stored);
                drop(page);
            }
        }
    }

    /** Sets an entry of a page that only {@code map} holds, keeping the map's totals. */
    private long set(VolumeMap map, MapPage page, int entry, long address, int crc) {
        int mappedBefore = page.mapped;
        long storedBefore = page.stored;
        long previous = page.set(entry, address, crc);
        changed(page);
        map.account(page.mapped - mappedBefore, page.stored - storedBefore);
        return previous;
    }

    private void drop(MapPage page) {
        if (--page.sharers > 0) {
            return;
        }
        for (int e = 0; e < MapPage.ENTRIES; e++) {
            long address = page.address(e);
            if (address != Address.UNMAPPED) {
                release(address);
            }
        }
    }

    private void release(long address) {
        if (extraRefs.isEmpty()) {
            liveness.released(address);
            return;
        }
        Integer extra = extraRefs.get(address);
        if (extra == null) {
            liveness.released(address);
        } else if (extra == 1) {
            extraRefs.remove(address);
        } else {
            extraRefs.put(address, extra - 1);
        }
    }

    private VolumeMap existing(int id) {
        VolumeMap map = maps.get(id);
        if (map == null) {
            throw new IllegalStateException("no map " + id);
        }
        return map;
    }
}
