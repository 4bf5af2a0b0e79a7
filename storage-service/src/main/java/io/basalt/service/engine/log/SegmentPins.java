package io.basalt.service.engine.log;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The segment each reading thread reads from, so that garbage collection does not hand the segment out
 * again meanwhile. A thread reads one segment at a time, so each has one slot of its own (hazard
 * pointers): a read writes only its own thread's cache line, twice, where a count per segment had every
 * event loop write the same lines (an array of counts holds 16 segments per line) on every read, which
 * does not scale to many cores. Freeing a segment, rare and on the writer, scans the slots instead.
 *
 * <p>Why a freed segment is never read: a reader publishes its slot (a volatile write) and only then
 * looks its block up again; the writer changes the map (volatile writes) before it asks
 * {@link #pinned}, which reads every slot (volatile reads). Volatile accesses have one total order, so
 * either the reader sees the moved block and starts over, or the writer sees the slot and keeps the
 * segment.
 */
final class SegmentPins {
    private static final int NONE = -1;
    private static final VarHandle SEGMENT;

    static {
        try {
            SEGMENT = MethodHandles.lookup().findVarHandle(PinnedSegment.class, "segment", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Every slot ever registered: a thread's stays for the table's life (threads that read are few). */
    private final CopyOnWriteArrayList<Slot> slots = new CopyOnWriteArrayList<>();
    private final ThreadLocal<Slot> own = ThreadLocal.withInitial(() -> {
        Slot slot = new Slot();
        slots.add(slot);
        return slot;
    });

    void pin(int segment) {
        Slot slot = own.get();
        if (slot.segment != NONE) {
            throw new IllegalStateException("this thread already reads segment " + slot.segment
                    + " and cannot pin " + segment + " too");
        }
        slot.segment = segment;
    }

    void unpin(int segment) {
        Slot slot = own.get();
        if (slot.segment != segment) {
            throw new IllegalStateException("this thread pinned segment " + slot.segment + ", not " + segment);
        }
        // The writer needs to see this only eventually (it keeps the segment until then): no fence.
        SEGMENT.setRelease(slot, NONE);
    }

    /** Whether a thread reads from {@code segment} now. */
    boolean pinned(int segment) {
        for (Slot slot : slots) {
            if (slot.segment == segment) {
                return true;
            }
        }
        return false;
    }

    /** Padding before the value: a slot's line is written by its thread alone. */
    @SuppressWarnings("unused")
    private static class PaddingBefore {
        long p0, p1, p2, p3, p4, p5, p6, p7;
    }

    private static class PinnedSegment extends PaddingBefore {
        volatile int segment = NONE;
    }

    /** Padding after the value (fields of a subclass are laid out after those of its superclass). */
    @SuppressWarnings("unused")
    private static final class Slot extends PinnedSegment {
        long q0, q1, q2, q3, q4, q5, q6, q7;
    }
}
