package io.basalt.service.volume;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class NsidAllocatorTest {
    private final AtomicLong epoch = new AtomicLong();
    private final AtomicLong oldestConnected = new AtomicLong(Long.MAX_VALUE);

    private NsidAllocator allocator(int max, int next, Set<Integer> inUse) {
        return new NsidAllocator(max, next, inUse, epoch::get, oldestConnected::get);
    }

    @Test
    void afterTheLastNsidAFreedOneIsReusedOnlyOnceEveryHostThatSawItIsGone() {
        NsidAllocator nsids = allocator(3, 1, Set.of());
        assertEquals(1, nsids.allocate());
        assertEquals(2, nsids.allocate());
        epoch.set(7);
        oldestConnected.set(5); // a controller from before the deletion is still connected
        nsids.release(1);
        assertEquals(3, nsids.allocate());
        assertEquals(-1, nsids.allocate(), "NSID 1 may still be known to the controller of epoch 5");
        oldestConnected.set(8); // only controllers that connected after the deletion remain
        assertEquals(1, nsids.allocate());
        assertEquals(-1, nsids.allocate());
    }

    @Test
    void aRestartContinuesAboveEveryNsidEverHandedOutAndFreedOnesWaitForTheEnd() {
        NsidAllocator nsids = allocator(1024, 10, Set.of(2, 9));
        assertEquals(10, nsids.allocate(), "the registry's next NSID");
        assertEquals(12, allocator(1024, 0, Set.of(3, 11)).allocate(), "an old registry without next: above the highest");
    }

    @Test
    void anNsidAllocatedForAFailedChangeIsTakenBack() {
        NsidAllocator nsids = allocator(1024, 1, Set.of());
        int nsid = nsids.allocate();
        nsids.unused(nsid);
        assertEquals(nsid, nsids.allocate(), "it was never shown to a host");
    }
}
