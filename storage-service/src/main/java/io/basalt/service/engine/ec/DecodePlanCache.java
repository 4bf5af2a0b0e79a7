package io.basalt.service.engine.ec;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The decode plans of recently seen erasure patterns, bounded: a direct-mapped table of
 * {@link #SLOTS} plans indexed by a hash of the pattern, a new plan replacing whatever shared its
 * slot. A node sees few patterns at a time (its failed drives at each position of the stripe
 * rotation), so a lookup is nearly always a hit, and a hit allocates nothing and takes no lock. Two
 * threads missing at once both compute the plan; either result is right.
 */
final class DecodePlanCache<T> {
    static final int SLOTS = 128;

    private final AtomicReferenceArray<DecodePlan<T>> slots = new AtomicReferenceArray<>(SLOTS);

    /** The cached plan of the pattern, or null. */
    DecodePlan<T> get(long w0, long w1, long w2, long w3) {
        DecodePlan<T> plan = slots.get(slot(w0, w1, w2, w3));
        return plan != null && plan.matches(w0, w1, w2, w3) ? plan : null;
    }

    void put(DecodePlan<T> plan) {
        slots.set(slot(plan.mask0(), plan.mask1(), plan.mask2(), plan.mask3()), plan);
    }

    private static int slot(long w0, long w1, long w2, long w3) {
        long h = w0 * 0x9E3779B97F4A7C15L;
        h = (h ^ w1) * 0xC2B2AE3D27D4EB4FL;
        h = (h ^ w2) * 0x165667B19E3779F9L;
        h = (h ^ w3) * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 32) & (SLOTS - 1);
    }
}
