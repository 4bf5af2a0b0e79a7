package io.basalt.service.engine.log;

import io.basalt.service.engine.EngineCounters;
import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.drive.FileMedia;
import io.basalt.service.engine.map.MapStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A node without a free segment: a batch too large for the rest of the open segment fails, and the
 * open segment stays open for smaller batches — a map change such as deleting a volume, which is how
 * space is made. Shown failing before the fix (the open segment was sealed before the free list was
 * looked at, and the map change then failed for want of a segment).
 */
class LogWriterSpaceTest {
    private static final int SEGMENT = 2 << 20;

    @Test
    void aFullNodeKeepsItsOpenSegmentForSmallBatches(@TempDir Path dir) throws Exception {
        try (DriveSet drives = drives(dir, 4)) {
            SegmentTable segments = nearlyFull(drives);
            LogWriter writer = writer(drives, segments);
            writer.start();
            try {
                assertInstanceOf(LogWriter.CapacityException.class, relocateTwoBlocks(writer));
                mapChange(writer);
                assertEquals(SegmentTable.State.OPEN, segments.state(3));
            } finally {
                writer.stop(10_000);
            }
        }
    }

    /**
     * No batch takes the segments kept for checkpoints. Shown failing without it: the relocation took
     * the last free segment, and the checkpoint that was to free the emptied victims found none — the
     * PowerLossTest run that found this ended with "no free segment left for checkpoint 424".
     */
    @Test
    void theSegmentsKeptForCheckpointsAreLeftToThem(@TempDir Path dir) throws Exception {
        try (DriveSet drives = drives(dir, 5)) {
            SegmentTable segments = nearlyFull(drives);
            LogWriter writer = writer(drives, segments);
            writer.keepForCheckpoints(1);
            writer.start();
            try {
                assertInstanceOf(LogWriter.CapacityException.class, relocateTwoBlocks(writer));
                mapChange(writer);
                assertEquals(1, segments.freeCount(), "the kept segment is still free");
                assertEquals(SegmentTable.State.FREE, segments.state(4));

                writer.keepForCheckpoints(0);
                assertNull(relocateTwoBlocks(writer), "with nothing kept the relocation takes the free segment");
                assertEquals(0, segments.freeCount());
            } finally {
                writer.stop(10_000);
            }
        }
    }

    /**
     * Host batches leave one segment more than the checkpoints' share, for garbage collection: with
     * only the share left it could move no victim, and no checkpoint would free a segment again.
     * PowerLossTest's erasure-coded runs reclaimed 17 segments in 600 cycles instead of 30 and more
     * before host batches left it.
     */
    @Test
    void hostBatchesLeaveGarbageCollectionASegment(@TempDir Path dir) throws Exception {
        try (DriveSet drives = drives(dir, 6)) {
            SegmentTable segments = nearlyFull(drives);
            LogWriter writer = writer(drives, segments);
            writer.keepForCheckpoints(1);
            writer.start();
            try {
                List<LogEntry> creates = new ArrayList<>();
                for (int id = 1; id <= 400; id++) {
                    creates.add(new LogEntry.Create(id, 4096, 16, false));
                }
                CompletableFuture<Void> large = new CompletableFuture<>();
                writer.submit(new LogOp.Control(creates, new ControlTicket(), large));
                ExecutionException noSpace = assertThrows(ExecutionException.class, () -> large.get(10, TimeUnit.SECONDS));
                assertInstanceOf(LogWriter.CapacityException.class, noSpace.getCause());
                assertEquals(2, segments.freeCount());

                assertNull(relocateTwoBlocks(writer), "garbage collection takes the segment host batches left");
                assertEquals(1, segments.freeCount());
            } finally {
                writer.stop(10_000);
            }
        }
    }

    private static DriveSet drives(Path dir, int segments) throws IOException {
        return DriveSet.open(FileMedia.INSTANCE, List.of(dir.resolve("d0")), UUID.randomUUID(), SEGMENT,
                (1 << 20) + (long) segments * SEGMENT, false);
    }

    /** Three full segments, a fourth open with one block's room left, the rest free. */
    private static SegmentTable nearlyFull(DriveSet drives) {
        SegmentTable segments = new SegmentTable(drives.segmentCount(), SEGMENT);
        for (int s = 0; s < 3; s++) {
            segments.restore(s, SegmentTable.State.SEALED, SEGMENT, 0);
        }
        segments.restore(3, SegmentTable.State.OPEN, SEGMENT - 4096, 0);
        segments.rebuildFreeList(new int[drives.segmentCount()]);
        return segments;
    }

    private static LogWriter writer(DriveSet drives, SegmentTable segments) {
        LogWriter writer = new LogWriter(drives, segments, new MapStore(segments), new ReentrantLock(),
                new EngineCounters(), new LogWriter.Listener() {
                    @Override
                    public void spaceLow() {
                    }

                    @Override
                    public void logged(long bytes) {
                    }
                }, 0, false, 0, 100);
        writer.initialSegment(3);
        return writer;
    }

    /** A batch too large for the open segment's rest; returns why it failed, or null if it was written. */
    private static Throwable relocateTwoBlocks(LogWriter writer) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        LogEntry.Relocate block = new LogEntry.Relocate(1, 0, 0, 4096, 0);
        writer.submit(new LogOp.Relocation(List.of(block, block),
                List.of(ByteBuffer.allocate(4096), ByteBuffer.allocate(4096)), done));
        try {
            done.get(10, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    /** A small batch, which still fits in the open segment. */
    private static void mapChange(LogWriter writer) throws Exception {
        CompletableFuture<Void> create = new CompletableFuture<>();
        writer.submit(new LogOp.Control(new LogEntry.Create(1, 4096, 16, false), new ControlTicket(), create));
        create.get(10, TimeUnit.SECONDS);
    }
}
