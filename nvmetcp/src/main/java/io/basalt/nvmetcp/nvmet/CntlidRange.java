package io.basalt.nvmetcp.nvmet;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The controller IDs a subsystem's controllers get on this target. A subsystem served by several
 * targets (one namespace with a path through each node holding a copy) needs IDs unique across all of
 * them: Linux refuses a second controller of one subsystem with an ID it already knows ("Duplicate
 * cntlid"), so each target allocates within a disjoint part of the range.
 *
 * @param first the lowest ID, at least 1
 * @param last  the highest ID, at most {@code 0xFFEF} (FFF0h and up are reserved)
 */
public record CntlidRange(int first, int last) {
    private static final int LOWEST = 1;
    private static final int HIGHEST = 0xFFEF;
    /** Every ID a controller may have (1 to FFEFh): a subsystem served by this target only. */
    public static final CntlidRange ALL = new CntlidRange(LOWEST, HIGHEST);

    public CntlidRange {
        if (first < LOWEST || last > HIGHEST || first > last) {
            throw new IllegalArgumentException("controller IDs " + first + ".." + last + " outside 1..65519");
        }
    }

    /**
     * Part {@code index} (from 0) of {@code parts} equal, disjoint parts of {@link #ALL}: the IDs of the
     * target at that position among a subsystem's targets.
     */
    public static CntlidRange part(int index, int parts) {
        if (parts < 1 || index < 0 || index >= parts) {
            throw new IllegalArgumentException("part " + index + " of " + parts);
        }
        int size = ALL.size() / parts;
        return new CntlidRange(ALL.first + index * size, ALL.first + (index + 1) * size - 1);
    }

    public int size() {
        return last - first + 1;
    }

    /** Takes the ID {@code next} holds and moves it on, wrapping within the range. */
    int next(AtomicInteger next) {
        return next.getAndUpdate(id -> id >= last || id < first ? first : id + 1);
    }
}
