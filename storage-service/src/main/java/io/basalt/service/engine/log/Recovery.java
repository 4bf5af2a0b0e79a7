package io.basalt.service.engine.log;

import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.drive.MetadataFiles;
import io.basalt.service.engine.map.MapStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * Rebuilds the maps after a start: the newest complete checkpoint chain on the drives (see
 * {@link CheckpointSegments}), then every batch written after it, in sequence order. A node upgraded
 * from drive format 2 has its checkpoint in the data directory instead ({@link LegacyCheckpointFile}),
 * read only when the drives hold none. Without a checkpoint, every segment is scanned and every batch
 * replayed (the map is rebuilt from the blocks' headers alone).
 *
 * <p>Where the log ends: batches are taken in sequence order from the checkpoint's; the log ends
 * before the first batch that is missing (a gap in the sequence, checked when there is a checkpoint)
 * or whose payload fails its CRC32C (a torn or lost write: after a power cut a drive may keep a later
 * batch and lose an earlier one). Nothing after that point can have been flushed, since a flush waits
 * for every batch before it. The batches found after the end are erased (their headers zeroed), so a
 * later recovery, with or without the checkpoint, cannot bring them back; and the log goes on above
 * every sequence number reserved on the drives (see {@link DriveSet#reserveSequences}), so a number is
 * never used twice, whatever survived where.
 *
 * <p>Memory: the checkpoint chain is read one record at a time, the log in a merge of its segments in
 * sequence order that holds a segment only from its first batch to its last (see docs/storage-engine.md).
 */
public final class Recovery {
    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

    private Recovery() {
    }

    /**
     * Where the log stands after recovery.
     *
     * @param sequence     the last batch replayed
     * @param nextSequence the log continues after this one: at least {@code sequence}, and at least every
     *                     sequence number that may be on the drives
     * @param checkpoints  the checkpoint chain recovered from, which the next checkpoint continues
     * @param fromLegacyFile whether the checkpoint came from the data directory's file (drive format 2)
     */
    public record Result(long sequence, long nextSequence, int nextMapId, long replayedBatches, long replayedBytes,
                         long millis, boolean fromCheckpoint, CheckpointSegments.Chain checkpoints,
                         boolean fromLegacyFile) {
    }

    /** A segment's batches after the checkpoint: from offset {@code from}, the first numbered {@code firstSequence}. */
    private record Run(int segment, int from, long minimumSequence, long firstSequence) {
    }

    /**
     * Walks the batches of one segment read into {@code bytes}, from {@code from}: each with an intact
     * header and a higher sequence than the one before (at least {@code minimumSequence}); stops at the
     * first that is not, the end of what the segment holds.
     */
    private static final class Cursor {
        final int segment;
        final ByteBuffer bytes;
        final long minimumSequence;
        /** Where batches end: see {@code DriveSet.writeAlignment}. */
        private final int alignment;
        private int offset;
        private long previous;
        LogFormat.Batch batch;
        /** Whether {@link #batch}'s payload matched its CRCs too. */
        boolean intact;

        Cursor(int segment, ByteBuffer bytes, int from, long minimumSequence, int alignment) {
            this.alignment = alignment;
            this.segment = segment;
            this.bytes = bytes;
            this.minimumSequence = minimumSequence;
            this.offset = from;
            this.previous = minimumSequence - 1;
        }

        /** Moves to the next batch; false at the end. Checks payloads only when given a codec. */
        boolean advance(BlockCodec codec) {
            if (offset + LogFormat.BATCH_HEADER > bytes.limit()) {
                return false;
            }
            LogFormat.Batch next = LogFormat.parse(bytes.duplicate().position(offset), offset, alignment);
            if (next == null || next.sequence() <= previous) {
                return false;
            }
            batch = next;
            intact = codec != null && LogFormat.payloadIntact(next, bytes, codec);
            previous = next.sequence();
            offset += next.length();
            return true;
        }
    }

    public static Result run(DriveSet drives, MapStore maps, SegmentTable segments, MetadataFiles metadata)
            throws IOException {
        long started = System.nanoTime();
        // One segment in memory at a time, for the checkpoint records and then for the log.
        ByteBuffer bytes = ByteBuffer.allocate(segments.segmentSize());
        long[] highestNumber = {0};
        int parityRestored = 0;
        List<CheckpointSegments.Found> chain = CheckpointSegments.select(
                CheckpointSegments.scan(drives, segments.count(), bytes), highestNumber);
        Optional<Checkpoint.Loaded> checkpoint;
        CheckpointSegments.Chain checkpoints;
        boolean legacy = false;
        if (chain.isEmpty()) {
            checkpoint = LegacyCheckpointFile.load(metadata, maps, segments);
            legacy = checkpoint.isPresent();
            checkpoints = CheckpointSegments.Chain.none(highestNumber[0]);
        } else {
            Checkpoint.ChainLoader loader = new Checkpoint.ChainLoader(segments.count());
            for (CheckpointSegments.Found one : chain) {
                try (DataInputStream in = new DataInputStream(CheckpointSegments.open(drives, one, bytes))) {
                    loader.read(in, one.link());
                } catch (EOFException e) {
                    throw new IOException("checkpoint " + one.link().number() + " is truncated", e);
                }
            }
            checkpoint = Optional.of(loader.install(maps, segments));
            Set<Integer> held = new HashSet<>();
            long deltaBytes = 0;
            for (CheckpointSegments.Found one : chain) {
                one.parts().forEach(part -> held.add(part.segment()));
                deltaBytes += one.link().isBase() ? 0 : one.bytes();
            }
            held.forEach(segments::holdsCheckpoint);
            // Every record up to the chain's end in its segments is read by each later scan, and the
            // newest may never have been synced: make their rows' parity whole before anything builds on them.
            Map<Integer, Integer> adopted = new TreeMap<>();
            for (CheckpointSegments.Found one : chain) {
                one.parts().forEach(part -> adopted.merge(part.segment(), CheckpointSegments.endOf(part), Math::max));
            }
            for (Map.Entry<Integer, Integer> records : adopted.entrySet()) {
                parityRestored += drives.restoreParity(records.getKey(), 0, records.getValue());
            }
            // The next checkpoint appends after the chain's last record: whatever follows it (a torn newer
            // checkpoint) has a lower number than the records that will overwrite it, and ends a scan.
            CheckpointSegments.Part end = chain.getLast().parts().getLast();
            checkpoints = new CheckpointSegments.Chain(highestNumber[0] + 1, chain.getLast().link().number(),
                    chain.getFirst().link().number(), held, chain.getFirst().bytes(), deltaBytes, chain.size() - 1,
                    end.segment(), CheckpointSegments.endOf(end));
        }
        long base = checkpoint.map(Checkpoint.Loaded::sequence).orElse(0L);
        long highest = Math.max(base, drives.reservedSequence());
        // Pass 1: where each segment's batches after the checkpoint start, and the highest sequence anywhere.
        List<Run> runs = new ArrayList<>();
        for (int s = 0; s < segments.count(); s++) {
            SegmentTable.State state = segments.state(s);
            if ((checkpoint.isPresent() && state == SegmentTable.State.SEALED) || state == SegmentTable.State.CHECKPOINT) {
                continue;
            }
            ByteBuffer header = ByteBuffer.allocate(LogFormat.SEGMENT_HEADER);
            drives.read(s, 0, header);
            long open = LogFormat.openSequence(header.flip(), s);
            highest = Math.max(highest, open);
            int from;
            if (state == SegmentTable.State.OPEN) {
                from = (int) segments.written(s);
            } else if (open > base) {
                from = LogFormat.SEGMENT_HEADER;
                segments.restore(s, SegmentTable.State.SEALED, LogFormat.SEGMENT_HEADER, open);
            } else {
                continue;
            }
            drives.read(s, 0, bytes.clear());
            Cursor cursor = new Cursor(s, bytes.flip(), from, Math.max(open, base + 1), drives.writeAlignment());
            if (cursor.advance(null)) {
                runs.add(new Run(s, from, cursor.minimumSequence, cursor.batch.sequence()));
                do {
                    highest = Math.max(highest, cursor.batch.sequence());
                } while (cursor.advance(null));
            }
        }
        // Pass 2: the batches in sequence order, merged from the segments. A segment is read when the merge
        // reaches its first batch and let go when it is used up; only segments written at the same time
        // (the host and relocation streams) overlap, so a few segment buffers are in memory at once.
        runs.sort(Comparator.comparingLong(Run::firstSequence));
        PriorityQueue<Cursor> merge = new PriorityQueue<>(Comparator.comparingLong(c -> c.batch.sequence()));
        ArrayDeque<ByteBuffer> spare = new ArrayDeque<>(List.of(bytes));
        BlockCodec codec = new BlockCodec();
        LogApplier applier = new LogApplier(maps, segments);
        long sequence = base;
        long batches = 0;
        long replayedBytes = 0;
        int nextRun = 0;
        Map<Integer, Integer> firstDropped = new TreeMap<>();
        // Per segment, the range of the batches replayed: they may never have been synced.
        Map<Integer, int[]> replayed = new TreeMap<>();
        while (true) {
            while (nextRun < runs.size() && (merge.isEmpty()
                    || runs.get(nextRun).firstSequence() < merge.peek().batch.sequence())) {
                Run run = runs.get(nextRun++);
                ByteBuffer buffer = spare.isEmpty() ? ByteBuffer.allocate(segments.segmentSize()) : spare.poll();
                drives.read(run.segment(), 0, buffer.clear());
                Cursor cursor = new Cursor(run.segment(), buffer.flip(), run.from(), run.minimumSequence(),
                        drives.writeAlignment());
                if (cursor.advance(codec)) {
                    merge.add(cursor);
                }
            }
            Cursor next = merge.poll();
            if (next == null) {
                break;
            }
            LogFormat.Batch batch = next.batch;
            long seq = batch.sequence();
            if (seq <= sequence) {
                // Only a drive written by a version that reused sequence numbers has two batches with one
                // number; the one applied first wins, as it did there.
                LOG.warn("log batch {} found twice; the copy in segment {} is skipped", seq, next.segment);
            } else if (seq != sequence + 1 && checkpoint.isPresent()) {
                LOG.warn("log sequence jumps from {} to {}: the log ends there; the batches after the gap were "
                        + "never flushed and are not replayed", sequence, seq);
                merge.add(next);
                break;
            } else if (!next.intact) {
                LOG.warn("log batch {} is torn (a stored block fails its CRC32C): the log ends there; it and the "
                        + "batches after it were never flushed and are not replayed", seq);
                merge.add(next);
                break;
            } else {
                applier.apply(next.segment, batch.offset(), batch.length(), seq, batch.entries());
                replayed.merge(next.segment, new int[] {batch.offset(), batch.offset() + batch.length()},
                        (a, b) -> new int[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
                sequence = seq;
                batches++;
                replayedBytes += batch.length();
            }
            if (next.advance(codec)) {
                merge.add(next);
            } else {
                spare.add(next.bytes);
            }
        }
        // Where the log ended, every batch not applied yet is dropped: from each open segment's current
        // batch, and every segment the merge did not reach.
        for (Cursor cursor : merge) {
            firstDropped.put(cursor.segment, cursor.batch.offset());
        }
        for (int r = nextRun; r < runs.size(); r++) {
            firstDropped.merge(runs.get(r).segment(), runs.get(r).from(), Math::min);
        }
        for (Map.Entry<Integer, int[]> range : replayed.entrySet()) {
            int from = range.getValue()[0] == LogFormat.SEGMENT_HEADER ? 0 : range.getValue()[0];
            parityRestored += drives.restoreParity(range.getKey(), from, range.getValue()[1] - from);
        }
        if (parityRestored > 0) {
            LOG.info("restored the parity of {} stripe chunk ranges that a power cut left behind their data",
                    parityRestored);
        }
        erase(drives, firstDropped, parityRestored > 0);
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
        return new Result(sequence, Math.max(sequence, highest), nextMapId, batches, replayedBytes, millis,
                checkpoint.isPresent(), checkpoints, legacy);
    }

    /** Zeroes the header of the first dropped batch of each segment: a scan of the segment ends there. */
    private static void erase(DriveSet drives, Map<Integer, Integer> firstDropped, boolean written) throws IOException {
        for (Map.Entry<Integer, Integer> end : firstDropped.entrySet()) {
            drives.write(end.getKey(), end.getValue(), new ByteBuffer[] {ByteBuffer.allocate(LogFormat.BATCH_HEADER)});
        }
        if (written || !firstDropped.isEmpty()) {
            drives.syncAll();
        }
    }
}
