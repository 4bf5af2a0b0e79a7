package io.basalt.service.volume;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Hands out namespace IDs so that a deleted volume's NSID does not come back while a host that may
 * have missed the deletion notice is still connected: such a host would address another tenant's
 * volume through it. NSIDs are handed out in increasing order (the next one is recorded in the
 * registry, so a restart does not go back); only when they run out at the subsystem's limit is a
 * freed one reused, and only one freed before every controller now connected was created — those
 * controllers never saw it. After a restart no controller is connected, so every free NSID qualifies.
 */
final class NsidAllocator {
    private final int max;
    private final LongSupplier oldestControllerEpoch;
    private final LongSupplier currentEpoch;
    /** Freed NSIDs, oldest first, with the controller epoch at which each was freed. */
    private final Deque<long[]> freed = new ArrayDeque<>();
    private int next;

    /**
     * @param next                  the registry's next NSID (1 on a new node)
     * @param inUse                 NSIDs of existing volumes
     * @param currentEpoch          the subsystem's controller epoch now
     * @param oldestControllerEpoch epoch of the oldest connected controller ({@code Long.MAX_VALUE} if none)
     */
    NsidAllocator(int max, int next, Set<Integer> inUse, LongSupplier currentEpoch, LongSupplier oldestControllerEpoch) {
        this.max = max;
        // Never below an NSID in use: a registry written before NSIDs were recorded has no next value.
        this.next = Math.max(Math.max(1, next), inUse.stream().mapToInt(Integer::intValue).max().orElse(0) + 1);
        this.currentEpoch = currentEpoch;
        this.oldestControllerEpoch = oldestControllerEpoch;
        for (int nsid = 1; nsid < this.next && nsid <= max; nsid++) {
            if (!inUse.contains(nsid)) {
                freed.add(new long[] {nsid, -1});
            }
        }
    }

    /** The NSID for a new volume; -1 if every NSID is in use or may still be known to a connected host. */
    int allocate() {
        if (next <= max) {
            return next++;
        }
        long[] oldest = freed.peek();
        if (oldest != null && oldest[1] < oldestControllerEpoch.getAsLong()) {
            freed.poll();
            return (int) oldest[0];
        }
        return -1;
    }

    /** An allocated NSID was not used after all (the change failed): it was never shown to a host. */
    void unused(int nsid) {
        if (nsid == next - 1) {
            next--;
        } else {
            freed.addFirst(new long[] {nsid, -1});
        }
    }

    void release(int nsid) {
        freed.add(new long[] {nsid, currentEpoch.getAsLong()});
    }

    /** What the registry records, so that NSIDs keep increasing across restarts. */
    int next() {
        return next;
    }
}
