package io.basalt.service.engine.map;

/**
 * Where a stored block lives, packed into one {@code long} so that a map entry is a single word:
 * segment number + 1 (24 bits), byte offset inside the segment (24 bits), stored length (16 bits).
 * Zero means "not mapped": the block reads as zeros.
 */
public final class Address {
    public static final long UNMAPPED = 0;
    /** Segments are at most 16 MiB because the offset has 24 bits. */
    public static final int MAX_SEGMENT_BYTES = 1 << 24;
    public static final int MAX_SEGMENTS = (1 << 24) - 1;

    private Address() {
    }

    public static long of(int segment, int offset, int storedLength) {
        if (segment < 0 || segment >= MAX_SEGMENTS || offset < 0 || offset >= MAX_SEGMENT_BYTES
                || storedLength <= 0 || storedLength > 0xFFFF) {
            throw new IllegalArgumentException("no address for segment " + segment + " offset " + offset
                    + " length " + storedLength);
        }
        return ((long) (segment + 1) << 40) | ((long) offset << 16) | storedLength;
    }

    public static int segment(long address) {
        return (int) (address >>> 40) - 1;
    }

    public static int offset(long address) {
        return (int) (address >>> 16) & (MAX_SEGMENT_BYTES - 1);
    }

    public static int storedLength(long address) {
        return (int) address & 0xFFFF;
    }

    public static String toString(long address) {
        return address == UNMAPPED ? "unmapped"
                : "segment " + segment(address) + " offset " + offset(address) + " length " + storedLength(address);
    }
}
