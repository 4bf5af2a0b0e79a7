package io.basalt.service.engine.map;

import java.util.BitSet;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One volume's or snapshot's map from logical block to stored block, as a directory of
 * {@link MapPage}s that may be shared with other maps of the same lineage (a volume, its snapshots
 * and its clones, which all use the same logical block numbers).
 *
 * <p>Changed only by {@link MapStore} on the engine's writer thread; looked up by any thread.
 */
public final class VolumeMap {
    private final int id;
    private final int lineage;
    private final int blockSize;
    /** Read by the writer thread for each write; changed by a logged COMPRESSION entry. */
    private volatile boolean compressed;
    private final boolean readOnly;
    private volatile long sizeBlocks;
    private volatile boolean deleted;
    private volatile AtomicReferenceArray<MapPage> pages;
    /**
     * The directory a base checkpoint image reads as it was at its capture (see
     * {@link MapStore#freezeAll}); null when none does. Writer thread only.
     */
    private AtomicReferenceArray<MapPage> frozenDirectory;
    /** Blocks mapped and their stored bytes, kept as pages change; written by the writer thread only. */
    private volatile long mappedBlocks;
    private volatile long storedBytes;
    /** Directory slots pointed at another page since the last checkpoint capture; writer thread only. */
    private BitSet changedSlots = new BitSet();

    VolumeMap(int id, int lineage, int blockSize, long sizeBlocks, boolean compressed, boolean readOnly) {
        this.id = id;
        this.lineage = lineage;
        this.blockSize = blockSize;
        this.compressed = compressed;
        this.readOnly = readOnly;
        this.sizeBlocks = sizeBlocks;
        this.pages = new AtomicReferenceArray<>(pageCount(sizeBlocks));
    }

    static int pageCount(long sizeBlocks) {
        return Math.toIntExact((sizeBlocks + MapPage.MASK) >>> MapPage.SHIFT);
    }

    public int id() {
        return id;
    }

    public int lineage() {
        return lineage;
    }

    public int blockSize() {
        return blockSize;
    }

    public boolean compressed() {
        return compressed;
    }

    public boolean readOnly() {
        return readOnly;
    }

    public long sizeBlocks() {
        return sizeBlocks;
    }

    /** True once the map was deleted: its volume must fail every I/O from then on. */
    public boolean deleted() {
        return deleted;
    }

    void markDeleted() {
        deleted = true;
    }

    /**
     * Looks up block {@code lba}: {@code out[0]} gets its {@link Address} (or {@link Address#UNMAPPED}),
     * {@code out[1]} its CRC. Safe against a concurrent change of the map.
     */
    public void lookup(long lba, long[] out) {
        int pageIndex = (int) (lba >>> MapPage.SHIFT);
        int entry = (int) (lba & MapPage.MASK);
        while (true) {
            AtomicReferenceArray<MapPage> directory = pages;
            if (pageIndex >= directory.length()) {
                out[0] = Address.UNMAPPED;
                return;
            }
            MapPage page = directory.get(pageIndex);
            if (page == null) {
                out[0] = Address.UNMAPPED;
                return;
            }
            page.read(entry, out);
            if (directory.get(pageIndex) == page && pages == directory) {
                return;
            }
        }
    }

    /** Blocks that are mapped (not reading as zeros); O(1), any thread. */
    public long mappedBlocks() {
        return mappedBlocks;
    }

    /** Bytes the mapped blocks take on the drives (after compression); O(1), any thread. */
    public long storedBytes() {
        return storedBytes;
    }

    /** Writer thread: the map gained (or, negative, lost) blocks. */
    void account(long blocks, long bytes) {
        mappedBlocks += blocks;
        storedBytes += bytes;
    }

    int pageCount() {
        return pages.length();
    }

    MapPage page(int index) {
        AtomicReferenceArray<MapPage> directory = pages;
        return index < directory.length() ? directory.get(index) : null;
    }

    /**
     * Points slot {@code index} at {@code page}. A directory a checkpoint image still reads is copied
     * first (once: the copy is the map's own), and the copy published whole, so a reader sees the old
     * directory or the new one.
     */
    void page(int index, MapPage page) {
        AtomicReferenceArray<MapPage> directory = pages;
        if (directory == frozenDirectory) {
            AtomicReferenceArray<MapPage> copy = new AtomicReferenceArray<>(directory.length());
            for (int i = 0; i < directory.length(); i++) {
                copy.setPlain(i, directory.getPlain(i));
            }
            copy.set(index, page);
            pages = copy;
        } else {
            directory.set(index, page);
        }
    }

    /** The current directory, from now on left as it is (see {@link #page(int, MapPage)}) until thawed. */
    AtomicReferenceArray<MapPage> freezeDirectory() {
        frozenDirectory = pages;
        return frozenDirectory;
    }

    void thawDirectory() {
        frozenDirectory = null;
    }

    /** A checkpoint must record slot {@code index} again. */
    void slotChanged(int index) {
        changedSlots.set(index);
    }

    /** Every slot must be recorded again (a revert replaced the directory). */
    void allSlotsChanged() {
        changedSlots.set(0, pageCount());
    }

    /** The slots changed since the last call, for a checkpoint capture; tracking starts afresh. */
    BitSet takeChangedSlots() {
        BitSet changed = changedSlots;
        changedSlots = new BitSet();
        return changed;
    }

    /**
     * Replaces the whole page directory in one step, so a concurrent reader sees either the old
     * content or the new, never a mix or the empty directory in between.
     */
    AtomicReferenceArray<MapPage> directory() {
        return pages;
    }

    void replacePages(AtomicReferenceArray<MapPage> directory) {
        pages = directory;
    }

    void setCompressed(boolean newCompressed) {
        compressed = newCompressed;
    }

    /** Grows the directory into a new one, so a frozen one is left as it was. */
    void resize(long newSizeBlocks) {
        int count = pageCount(newSizeBlocks);
        AtomicReferenceArray<MapPage> current = pages;
        if (count > current.length()) {
            AtomicReferenceArray<MapPage> grown = new AtomicReferenceArray<>(count);
            for (int i = 0; i < current.length(); i++) {
                grown.set(i, current.get(i));
            }
            pages = grown;
        }
        sizeBlocks = newSizeBlocks;
    }
}
