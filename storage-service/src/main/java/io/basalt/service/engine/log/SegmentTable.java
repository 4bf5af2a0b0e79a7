package io.basalt.service.engine.log;

import io.basalt.service.engine.map.Address;
import io.basalt.service.engine.map.MapStore;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * State and space accounting of every segment.
 *
 * <p>A segment is FREE, then OPEN while the writer appends to it, then SEALED. Garbage collection
 * takes a sealed segment (RELOCATING), moves its live blocks away, and once no live byte is left it
 * waits (EMPTY) until a checkpoint covers every batch it held; then it is FREE again. A segment may
 * instead hold checkpoints (CHECKPOINT) until a newer chain no longer needs it. Readers pin a
 * segment while they read from it, and a pinned segment is not handed out again.
 *
 * <p>Changed by the writer thread (and by recovery before it starts), under the engine's lock.
 */
public final class SegmentTable implements MapStore.Liveness {
    public enum State { FREE, OPEN, SEALED, RELOCATING, EMPTY, CHECKPOINT }

    private final int segmentSize;
    private final State[] states;
    private final AtomicLongArray live;
    private final long[] written;
    private final long[] lastSequence;
    private final long[] sealedAtSequence;
    private final SegmentPins pins = new SegmentPins();
    private final Deque<Integer> free = new ArrayDeque<>();

    public SegmentTable(int segmentCount, int segmentSize) {
        this.segmentSize = segmentSize;
        this.states = new State[segmentCount];
        this.live = new AtomicLongArray(segmentCount);
        this.written = new long[segmentCount];
        this.lastSequence = new long[segmentCount];
        this.sealedAtSequence = new long[segmentCount];
        java.util.Arrays.fill(states, State.FREE);
    }

    public int count() {
        return states.length;
    }

    public int segmentSize() {
        return segmentSize;
    }

    /** Fills the free list in the order segments will be used: interleaved across drives. */
    public void rebuildFreeList(int[] driveOfSegment) {
        free.clear();
        int drives = 0;
        for (int d : driveOfSegment) {
            drives = Math.max(drives, d + 1);
        }
        List<List<Integer>> perDrive = new ArrayList<>();
        for (int d = 0; d < drives; d++) {
            perDrive.add(new ArrayList<>());
        }
        for (int s = 0; s < states.length; s++) {
            if (states[s] == State.FREE) {
                perDrive.get(driveOfSegment[s]).add(s);
            }
        }
        for (int i = 0; ; i++) {
            boolean any = false;
            for (List<Integer> list : perDrive) {
                if (i < list.size()) {
                    free.add(list.get(i));
                    any = true;
                }
            }
            if (!any) {
                break;
            }
        }
    }

    public int freeCount() {
        return free.size();
    }

    /** Takes the next free segment; null if none is left. */
    public Integer open(long sequence) {
        Integer segment = free.poll();
        if (segment != null) {
            states[segment] = State.OPEN;
            written[segment] = LogFormat.SEGMENT_HEADER;
            lastSequence[segment] = sequence;
        }
        return segment;
    }

    /** Recovery: marks a segment as holding data up to {@code writtenBytes}. */
    public void restore(int segment, State state, long writtenBytes, long sequence) {
        states[segment] = state;
        written[segment] = writtenBytes;
        lastSequence[segment] = sequence;
        sealedAtSequence[segment] = sequence;
    }

    public void appended(int segment, int bytes, long sequence) {
        written[segment] += bytes;
        lastSequence[segment] = Math.max(lastSequence[segment], sequence);
    }

    public void seal(int segment) {
        states[segment] = State.SEALED;
        sealedAtSequence[segment] = lastSequence[segment];
    }

    /**
     * Garbage collection moved every live block away. {@code sequence} is the log sequence at that
     * moment: only a checkpoint captured at or after it no longer points into the segment, so only such
     * a checkpoint may free it (see {@link #lastSequence}, which now holds it).
     */
    public void emptied(int segment, long sequence) {
        states[segment] = State.EMPTY;
        lastSequence[segment] = Math.max(lastSequence[segment], sequence);
    }

    public State state(int segment) {
        return states[segment];
    }

    public void state(int segment, State state) {
        states[segment] = state;
    }

    public long live(int segment) {
        return live.get(segment);
    }

    public long written(int segment) {
        return written[segment];
    }

    public long lastSequence(int segment) {
        return lastSequence[segment];
    }

    public long sealedAtSequence(int segment) {
        return sealedAtSequence[segment];
    }

    /** Returns an EMPTY segment to the free list if nothing reads from it any more. */
    public boolean release(int segment) {
        if (states[segment] != State.EMPTY || pins.pinned(segment)) {
            return false;
        }
        states[segment] = State.FREE;
        written[segment] = 0;
        free.add(segment);
        return true;
    }

    /** Takes a free segment for checkpoint records; null if none is left. */
    public Integer takeForCheckpoint() {
        Integer segment = free.poll();
        if (segment != null) {
            states[segment] = State.CHECKPOINT;
            written[segment] = segmentSize;
        }
        return segment;
    }

    /** Recovery: the segment holds records of the checkpoint chain recovered from. */
    public void holdsCheckpoint(int segment) {
        states[segment] = State.CHECKPOINT;
        written[segment] = segmentSize;
    }

    /** A checkpoint segment no chain needs any more (readers never read one) is free again. */
    public void releaseCheckpoint(int segment) {
        if (states[segment] != State.CHECKPOINT) {
            throw new IllegalStateException("segment " + segment + " holds no checkpoint");
        }
        states[segment] = State.FREE;
        written[segment] = 0;
        free.add(segment);
    }

    /** The calling thread reads from {@code segment} until it unpins it; one segment per thread at a time. */
    public void pin(int segment) {
        pins.pin(segment);
    }

    public void unpin(int segment) {
        pins.unpin(segment);
    }

    /** Bytes of live data on all drives. */
    public long liveBytes() {
        long sum = 0;
        for (int s = 0; s < states.length; s++) {
            sum += live.get(s);
        }
        return sum;
    }

    /** Bytes in sealed segments that garbage collection could reclaim. */
    public long reclaimableBytes() {
        long sum = 0;
        for (int s = 0; s < states.length; s++) {
            if (states[s] == State.SEALED || states[s] == State.RELOCATING) {
                sum += segmentSize - live.get(s);
            }
        }
        return sum;
    }

    @Override
    public void referenced(long address) {
        live.addAndGet(Address.segment(address), Address.storedLength(address));
    }

    @Override
    public void released(long address) {
        live.addAndGet(Address.segment(address), -Address.storedLength(address));
    }
}
