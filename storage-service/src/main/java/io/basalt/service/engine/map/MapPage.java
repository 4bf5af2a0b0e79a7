package io.basalt.service.engine.map;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * {@value #ENTRIES} consecutive entries of a volume map: each block's {@link Address} and the CRC32C
 * its stored bytes must have.
 *
 * <p>Pages are shared copy-on-write between a volume and its snapshots and clones: {@link #sharers}
 * counts the maps that point at this page. A checkpoint image holds pages copy-on-write the same way
 * ({@link #frozenIn}). Only the engine's single writer thread changes a page; any
 * thread may read one. A seqlock keeps readers from pairing one write's address with another's CRC.
 */
public final class MapPage {
    public static final int SHIFT = 9;
    public static final int ENTRIES = 1 << SHIFT;
    public static final int MASK = ENTRIES - 1;
    private static final VarHandle VERSION;

    static {
        try {
            VERSION = MethodHandles.lookup().findVarHandle(MapPage.class, "version", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long[] addresses;
    private final int[] crcs;
    @SuppressWarnings("unused") // accessed through VERSION
    private volatile int version;
    /** Maps holding this page; writer thread only. */
    int sharers = 1;
    /** Entries that are mapped; writer thread only. */
    int mapped;
    /** Stored bytes of the mapped entries; writer thread only. */
    long stored;
    /**
     * The checkpoint generation of the incremental image that reads this page in place (see
     * {@link MapStore#freezeChanged}; a base freezes every page by its {@link #id} instead); while that
     * image is being written, the page is copied before it changes. Writer thread only.
     */
    int frozenIn;
    /**
     * The page's identity in on-drive checkpoints, unique among the pages a checkpoint chain names: an
     * incremental checkpoint writes a changed page under its id and points directory slots at ids.
     * A copy gets a new id. Assigned by {@link MapStore}; writer thread only.
     */
    long id;
    /** The checkpoint epoch in which the page last changed (see {@link MapStore#freezeChanged}); writer thread only. */
    int dirtyIn;

    MapPage() {
        this(new long[ENTRIES], new int[ENTRIES], 0, 0);
    }

    private MapPage(long[] addresses, int[] crcs, int mapped, long stored) {
        this.addresses = addresses;
        this.crcs = crcs;
        this.mapped = mapped;
        this.stored = stored;
    }

    /** A private copy for a map that is about to change a shared page. */
    MapPage copy() {
        return new MapPage(addresses.clone(), crcs.clone(), mapped, stored);
    }

    /** Entry {@code index}'s address, read without tearing against a concurrent {@link #set}. */
    public long address(int index) {
        return addresses[index];
    }

    /**
     * Reads entry {@code index} consistently into {@code out} ({@code out[0]} address, {@code out[1]} CRC).
     */
    public void read(int index, long[] out) {
        while (true) {
            int before = (int) VERSION.getAcquire(this);
            long address = addresses[index];
            int crc = crcs[index];
            VarHandle.loadLoadFence();
            if ((before & 1) == 0 && before == (int) VERSION.getAcquire(this)) {
                out[0] = address;
                out[1] = crc;
                return;
            }
            Thread.onSpinWait();
        }
    }

    /** Writer thread only. Returns the address the entry held. */
    long set(int index, long address, int crc) {
        long previous = addresses[index];
        int v = version;
        VERSION.setRelease(this, v + 1);
        VarHandle.storeStoreFence();
        addresses[index] = address;
        crcs[index] = crc;
        VERSION.setRelease(this, v + 2);
        if (previous == Address.UNMAPPED && address != Address.UNMAPPED) {
            mapped++;
        } else if (previous != Address.UNMAPPED && address == Address.UNMAPPED) {
            mapped--;
        }
        stored += Address.storedLength(address) - Address.storedLength(previous);
        return previous;
    }

    int crc(int index) {
        return crcs[index];
    }

    public int sharers() {
        return sharers;
    }

    public int mapped() {
        return mapped;
    }

    public long id() {
        return id;
    }
}
