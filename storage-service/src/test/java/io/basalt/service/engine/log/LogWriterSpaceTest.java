package io.basalt.service.engine.log;

import io.basalt.service.engine.EngineCounters;
import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.drive.FileMedia;
import io.basalt.service.engine.map.MapStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
        try (DriveSet drives = DriveSet.open(FileMedia.INSTANCE, List.of(dir.resolve("d0")), UUID.randomUUID(),
                SEGMENT, (1 << 20) + 4L * SEGMENT, false)) {
            SegmentTable segments = new SegmentTable(drives.segmentCount(), SEGMENT);
            for (int s = 0; s < 3; s++) {
                segments.restore(s, SegmentTable.State.SEALED, SEGMENT, 0);
            }
            segments.restore(3, SegmentTable.State.OPEN, SEGMENT - 4096, 0);
            segments.rebuildFreeList(new int[] {0, 0, 0, 0});
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
            writer.start();
            try {
                CompletableFuture<Void> large = new CompletableFuture<>();
                LogEntry.Relocate block = new LogEntry.Relocate(1, 0, 0, 4096, 0);
                writer.submit(new LogOp.Relocation(List.of(block, block),
                        List.of(ByteBuffer.allocate(4096), ByteBuffer.allocate(4096)), large));
                ExecutionException noSpace = assertThrows(ExecutionException.class, () -> large.get(10, TimeUnit.SECONDS));
                assertInstanceOf(LogWriter.CapacityException.class, noSpace.getCause());

                CompletableFuture<Void> create = new CompletableFuture<>();
                writer.submit(new LogOp.Control(new LogEntry.Create(1, 4096, 16, false), new ControlTicket(), create));
                create.get(10, TimeUnit.SECONDS);
                assertEquals(SegmentTable.State.OPEN, segments.state(3));
            } finally {
                writer.stop(10_000);
            }
        }
    }
}
