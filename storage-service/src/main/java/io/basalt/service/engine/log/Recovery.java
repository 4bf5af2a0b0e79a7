package io.basalt.service.engine.log;

import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.drive.MetadataFiles;
import io.basalt.service.engine.map.MapStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Rebuilds the maps after a start: the last checkpoint, then every batch written after it, in
 * sequence order. Without a checkpoint, every segment is scanned and every batch replayed (the map
 * is rebuilt from the blocks' headers alone).
 *
 * <p>Only batches after the checkpoint can be missing or torn, and only at the end of the log: a
 * torn last batch (a crash in the middle of its write) was never acknowledged and is dropped; a gap
 * in the sequence ends the replay, since nothing after a gap was flushed.
 */
public final class Recovery {
    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

    private Recovery() {
    }

    /** Where the log stands after recovery. */
    public record Result(long sequence, int nextMapId, long replayedBatches, long replayedBytes, long millis,
                         boolean fromCheckpoint) {
    }

    private record Found(int segment, LogFormat.Batch batch, ByteBuffer segmentBytes) {
    }

    public static Result run(DriveSet drives, MapStore maps, SegmentTable segments, MetadataFiles metadata)
            throws IOException {
        long started = System.nanoTime();
        Optional<Checkpoint.Loaded> checkpoint = Checkpoint.load(metadata, maps, segments);
        long base = checkpoint.map(Checkpoint.Loaded::sequence).orElse(0L);
        List<Found> found = new ArrayList<>();
        for (int s = 0; s < segments.count(); s++) {
            SegmentTable.State state = segments.state(s);
            if (checkpoint.isPresent() && state == SegmentTable.State.SEALED) {
                continue;
            }
            ByteBuffer header = ByteBuffer.allocate(LogFormat.SEGMENT_HEADER);
            drives.read(s, 0, header);
            long open = LogFormat.openSequence(header.flip(), s);
            int from;
            if (state == SegmentTable.State.OPEN) {
                from = (int) segments.written(s);
            } else if (open > base) {
                from = LogFormat.SEGMENT_HEADER;
                segments.restore(s, SegmentTable.State.SEALED, LogFormat.SEGMENT_HEADER, open);
            } else {
                continue;
            }
            ByteBuffer bytes = ByteBuffer.allocate(segments.segmentSize());
            drives.read(s, 0, bytes);
            scan(s, bytes.flip(), from, Math.max(open, base + 1), found);
        }
        found.sort(Comparator.comparingLong(f -> f.batch().sequence()));
        dropTornTail(found);
        LogApplier applier = new LogApplier(maps, segments);
        long sequence = base;
        long batches = 0;
        long bytes = 0;
        for (Found f : found) {
            long seq = f.batch().sequence();
            if (seq <= sequence) {
                continue;
            }
            if (seq != sequence + 1 && checkpoint.isPresent()) {
                LOG.warn("log sequence jumps from {} to {}; the batches after the gap were never flushed and are "
                        + "not replayed", sequence, seq);
                break;
            }
            applier.apply(f.segment(), f.batch().offset(), f.batch().length(), seq, f.batch().entries());
            sequence = seq;
            batches++;
            bytes += f.batch().length();
        }
        for (int s = 0; s < segments.count(); s++) {
            if (segments.state(s) == SegmentTable.State.OPEN) {
                segments.seal(s);
            } else if (segments.state(s) == SegmentTable.State.SEALED && segments.written(s) <= LogFormat.SEGMENT_HEADER
                    && segments.live(s) == 0) {
                segments.state(s, SegmentTable.State.FREE);
            }
        }
        int nextMapId = checkpoint.map(Checkpoint.Loaded::nextMapId).orElse(1);
        for (var map : maps.all()) {
            nextMapId = Math.max(nextMapId, map.id() + 1);
        }
        for (var id : maps.lineages().keySet()) {
            nextMapId = Math.max(nextMapId, id + 1);
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        return new Result(sequence, nextMapId, batches, bytes, millis, checkpoint.isPresent());
    }

    /** Adds the intact batches of a segment from {@code from}, stopping at the first that is not. */
    private static void scan(int segment, ByteBuffer bytes, int from, long minimumSequence, List<Found> found) {
        int offset = from;
        long previous = minimumSequence - 1;
        while (offset + LogFormat.BATCH_HEADER <= bytes.limit()) {
            LogFormat.Batch batch = LogFormat.parse(bytes.duplicate().position(offset), offset);
            if (batch == null || batch.sequence() <= previous) {
                return;
            }
            found.add(new Found(segment, batch, bytes));
            previous = batch.sequence();
            offset += batch.length();
        }
    }

    /** A crash in the middle of the last write leaves its payload incomplete: such a batch is dropped. */
    private static void dropTornTail(List<Found> found) {
        if (found.isEmpty()) {
            return;
        }
        Found last = found.get(found.size() - 1);
        BlockCodec codec = new BlockCodec();
        int at = last.batch().payloadOffset();
        for (LogEntry entry : last.batch().entries()) {
            int[] lengths;
            int[] crcs;
            long lba;
            switch (entry) {
                case LogEntry.Write w -> {
                    lengths = w.lengths();
                    crcs = w.crcs();
                    lba = w.lba();
                }
                case LogEntry.Relocate r -> {
                    lengths = new int[] {r.length()};
                    crcs = new int[] {r.crc()};
                    lba = r.lba();
                }
                default -> {
                    continue;
                }
            }
            for (int i = 0; i < lengths.length; i++) {
                if (codec.crc(lba + i, last.segmentBytes(), at, lengths[i]) != crcs[i]) {
                    LOG.warn("the last log batch (sequence {}) is torn; it was never acknowledged and is dropped",
                            last.batch().sequence());
                    found.remove(found.size() - 1);
                    return;
                }
                at += lengths[i];
            }
        }
    }
}
