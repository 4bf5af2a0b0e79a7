package io.basalt.service.engine.log;

import io.basalt.service.engine.map.Address;
import io.basalt.service.engine.map.MapStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Applies a batch's entries to the maps and the segment accounting: the same code for a batch just
 * written and for one replayed during recovery, so both reach the same state.
 */
public final class LogApplier {
    private static final Logger LOG = LoggerFactory.getLogger(LogApplier.class);
    private final MapStore maps;
    private final SegmentTable segments;

    public LogApplier(MapStore maps, SegmentTable segments) {
        this.maps = maps;
        this.segments = segments;
    }

    /**
     * @param offset where the batch starts in {@code segment}
     * @param length the batch's aligned length
     */
    public void apply(int segment, int offset, int length, long sequence, List<LogEntry> entries) {
        int payloadAt = offset + LogFormat.BATCH_HEADER;
        for (LogEntry entry : entries) {
            payloadAt += LogFormat.encodedLength(entry);
        }
        segments.appended(segment, length, sequence);
        for (LogEntry entry : entries) {
            switch (entry) {
                case LogEntry.Write w -> {
                    boolean exists = maps.get(w.volume()) != null;
                    for (int i = 0; i < w.blocks(); i++) {
                        if (exists) {
                            maps.write(w.volume(), w.lba() + i, Address.of(segment, payloadAt, w.length(i)), w.crc(i));
                        }
                        payloadAt += w.length(i);
                    }
                    if (!exists) {
                        LOG.debug("write to map {}, which no longer exists, ignored", w.volume());
                    }
                }
                case LogEntry.Relocate r -> {
                    maps.relocate(r.lineage(), r.lba(), r.from(), Address.of(segment, payloadAt, r.length()), r.crc());
                    payloadAt += r.length();
                }
                case LogEntry.Unmap u -> {
                    if (maps.get(u.volume()) != null) {
                        maps.unmap(u.volume(), u.lba(), u.count());
                    }
                }
                case LogEntry.Create c -> maps.create(c.volume(), c.volume(), c.blockSize(), c.sizeBlocks(),
                        c.compressed(), false);
                case LogEntry.Clone c -> maps.cloneOf(c.volume(), c.source(), c.sizeBlocks(), c.compressed(),
                        c.readOnly());
                case LogEntry.Resize r -> maps.resize(r.volume(), r.sizeBlocks());
                case LogEntry.Delete d -> maps.delete(d.volume());
                case LogEntry.Revert r -> maps.revert(r.volume(), r.snapshot());
                case LogEntry.Compression c -> maps.setCompression(c.volume(), c.compressed());
            }
        }
    }
}
