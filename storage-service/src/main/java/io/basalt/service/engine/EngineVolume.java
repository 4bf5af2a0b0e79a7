package io.basalt.service.engine;

import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.log.BlockCodec;
import io.basalt.service.engine.log.LogOp;
import io.basalt.service.engine.log.LogWriter;
import io.basalt.service.engine.log.SegmentTable;
import io.basalt.service.engine.map.Address;
import io.basalt.service.engine.map.VolumeMap;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A volume (or snapshot) of the engine. Writes, unmaps and flushes are queued to the log writer.
 * Reads look the blocks up in the map and read them straight into the destination buffer, checking
 * every block's CRC32C: first on the caller's thread, but only from memory (a read that would wait
 * for a drive gives up at once), then, if anything was missing, all over again on the read pool.
 */
public final class EngineVolume implements BlockStore {
    private static final Logger LOG = LoggerFactory.getLogger(EngineVolume.class);
    /** Per reading thread (event loops and the read pool), so a read allocates no buffers. */
    private static final ThreadLocal<ReadContext> CONTEXT = ThreadLocal.withInitial(ReadContext::new);
    /** Blocks read with one drive read at most; bounds the check arrays. */
    private static final int MAX_RUN_BYTES = 1 << 20;
    private static final int MAX_LOOKUP_RETRIES = 100;

    private final VolumeMap map;
    private final DriveSet drives;
    private final SegmentTable segments;
    private final LogWriter writer;
    private final ReadPool readers;
    private final EngineCounters counters;

    EngineVolume(VolumeMap map, DriveSet drives, SegmentTable segments, LogWriter writer, ReadPool readers,
                 EngineCounters counters) {
        this.map = map;
        this.drives = drives;
        this.segments = segments;
        this.writer = writer;
        this.readers = readers;
        this.counters = counters;
    }

    private static final class ReadContext {
        final long[] entry = new long[2];
        final long[] check = new long[2];
        final int[] crcs = new int[MAX_RUN_BYTES / 512];
        final BlockCodec codec = new BlockCodec();
        /** Stored bytes of a compressed block, before they are expanded into the destination. */
        final ByteBuffer compressed = ByteBuffer.allocateDirect(64 * 1024);
    }

    public int id() {
        return map.id();
    }

    public boolean readOnly() {
        return map.readOnly();
    }

    /** The map behind this volume (tests find stored blocks through it). */
    VolumeMap map() {
        return map;
    }

    @Override
    public int blockSize() {
        return map.blockSize();
    }

    @Override
    public long blockCount() {
        return map.sizeBlocks();
    }

    @Override
    public void read(long lba, int blocks, ByteBuf dst, IoCompletion completion) {
        IoResult refused = refusal(lba, blocks, false);
        if (refused != null) {
            completion.done(refused);
            return;
        }
        int start = dst.writerIndex();
        IoResult fromMemory = readBlocks(lba, blocks, dst, true);
        if (fromMemory != null) {
            completion.done(fromMemory);
            return;
        }
        dst.writerIndex(start);
        counters.pooledRead();
        if (!readers.submit(() -> completion.done(readBlocks(lba, blocks, dst, false)))) {
            completion.done(IoResult.FAILED);
        }
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCompletion completion) {
        IoResult refused = refusal(lba, blocks, true);
        if (refused != null) {
            completion.done(refused);
        } else {
            LogOp.HostWrite kept = completion.keptWrite();
            if (kept == null) {
                kept = new LogOp.HostWrite(map, lba, blocks, src, fua, completion, System.nanoTime());
                completion.keepWrite(kept);
            } else {
                kept.refill(map, lba, blocks, src, fua, completion, System.nanoTime());
            }
            writer.submit(kept);
        }
    }

    @Override
    public void flush(IoCompletion completion) {
        writer.submit(new LogOp.HostFlush(completion));
    }

    @Override
    public void unmap(long lba, long blocks, IoCompletion completion) {
        IoResult refused = refusal(lba, blocks, true);
        if (refused != null) {
            completion.done(refused);
        } else {
            writer.submit(new LogOp.HostUnmap(map, lba, blocks, completion));
        }
    }

    /** Why the operation cannot be done at all; null if it can. */
    private IoResult refusal(long lba, long blocks, boolean changes) {
        if (map.deleted()) {
            return IoResult.GONE;
        }
        if (lba < 0 || blocks < 0 || lba > map.sizeBlocks() - blocks) {
            return IoResult.OUT_OF_RANGE;
        }
        if (changes && map.readOnly()) {
            return IoResult.READ_ONLY;
        }
        return null;
    }

    /**
     * Reads the blocks into {@code dst}. With {@code memoryOnly}, returns null as soon as a block is not
     * in memory (the caller then starts over on the read pool).
     */
    private IoResult readBlocks(long lba, int blocks, ByteBuf dst, boolean memoryOnly) {
        ReadContext context = CONTEXT.get();
        int blockSize = map.blockSize();
        int maxRun = MAX_RUN_BYTES / blockSize;
        int done = 0;
        int attempts = 0;
        while (done < blocks) {
            long block = lba + done;
            map.lookup(block, context.entry);
            long address = context.entry[0];
            if (address == Address.UNMAPPED) {
                dst.writeZero(blockSize);
                done++;
                continue;
            }
            int segment = Address.segment(address);
            segments.pin(segment);
            try {
                // Looked up again once pinned: garbage collection may have moved the block and freed its
                // segment between the first look-up and the pin.
                map.lookup(block, context.check);
                if (context.check[0] != address) {
                    continue;
                }
                int run = contiguousRun(block, address, Math.min(blocks - done, maxRun), context);
                ReadOutcome outcome = readRun(block, address, run, dst, context, memoryOnly);
                if (outcome == ReadOutcome.NOT_IN_MEMORY) {
                    return null;
                }
                if (outcome == ReadOutcome.MOVED && ++attempts < MAX_LOOKUP_RETRIES) {
                    continue;
                }
                if (outcome != ReadOutcome.READ) {
                    return IoResult.MEDIA_ERROR;
                }
                done += run;
            } finally {
                segments.unpin(segment);
            }
        }
        return IoResult.OK;
    }

    /** What reading one run found. */
    private enum ReadOutcome { READ, MOVED, LOST, NOT_IN_MEMORY }

    /**
     * How many blocks from {@code block} are stored raw, one after another, in the same segment (all
     * of them looked up after the segment was pinned); their CRCs go to {@code context.crcs}.
     */
    private int contiguousRun(long block, long address, int limit, ReadContext context) {
        int blockSize = map.blockSize();
        context.crcs[0] = (int) context.check[1];
        if (Address.storedLength(address) != blockSize) {
            return 1;
        }
        int run = 1;
        while (run < limit) {
            map.lookup(block + run, context.check);
            long next = context.check[0];
            if (next == Address.UNMAPPED || Address.segment(next) != Address.segment(address)
                    || Address.storedLength(next) != blockSize
                    || Address.offset(next) != Address.offset(address) + run * blockSize) {
                break;
            }
            context.crcs[run] = (int) context.check[1];
            run++;
        }
        return run;
    }

    /**
     * Reads a run: raw blocks straight into {@code dst} (its writer index advances only once every
     * block passed its check), a compressed block through a small buffer and expanded into {@code dst}.
     * {@code dst} is reached through its internal NIO view, which a pooled buffer keeps, rather than a
     * new {@code nioBuffer} slice per run: a read allocates no buffer object. The view starts at its
     * own position ({@code start}), not at 0.
     */
    private ReadOutcome readRun(long block, long address, int run, ByteBuf dst, ReadContext context,
                                boolean memoryOnly) {
        int blockSize = map.blockSize();
        int stored = Address.storedLength(address);
        boolean raw = stored == blockSize;
        ByteBuffer into;
        int at = dst.writerIndex();
        if (raw) {
            dst.ensureWritable(run * blockSize);
            into = dst.internalNioBuffer(at, run * blockSize);
        } else {
            into = context.compressed.clear().limit(stored);
        }
        int start = into.position();
        try {
            if (memoryOnly) {
                if (!drives.readCached(Address.segment(address), Address.offset(address), into)) {
                    return ReadOutcome.NOT_IN_MEMORY;
                }
            } else {
                drives.read(Address.segment(address), Address.offset(address), into);
            }
        } catch (IOException e) {
            LOG.error("reading {} of volume map {} failed", Address.toString(address), map.id(), e);
            counters.readError();
            return ReadOutcome.LOST;
        }
        int offset = 0;
        for (int i = 0; i < (raw ? run : 1); i++) {
            if (context.codec.crc(block + i, into, start + offset, stored) != context.crcs[i]) {
                // The failing block's own address, not the run's first: compared with the first, the map
                // never matches, so the read was retried 100 times and the error neither counted nor logged.
                long failed = i == 0 ? address : Address.of(Address.segment(address), Address.offset(address) + offset,
                        stored);
                if (!rebuiltFromParity(block + i, failed, into, start + offset, context.crcs[i], context)) {
                    return checksumFailure(block + i, failed);
                }
            }
            offset += stored;
        }
        if (raw) {
            dst.writerIndex(at + run * blockSize);
            return ReadOutcome.READ;
        }
        dst.ensureWritable(blockSize);
        ByteBuffer plain = dst.internalNioBuffer(at, blockSize);
        if (!context.codec.decompress(into, 0, stored, plain, blockSize)) {
            return checksumFailure(block, address);
        }
        dst.writerIndex(at + blockSize);
        return ReadOutcome.READ;
    }

    /**
     * On an erasure-coded node, rebuilds a block that failed its checksum from the other chunks of its
     * rows (a chunk damaged on a drive that reported no error), into {@code into} at {@code at}; true if a
     * rebuilt version passed the check. Only on this error path: it allocates a little.
     */
    private boolean rebuiltFromParity(long block, long address, ByteBuffer into, int at, int crc, ReadContext context) {
        int stored = Address.storedLength(address);
        try {
            if (drives.readRebuilt(Address.segment(address), Address.offset(address),
                    into.duplicate().position(at).limit(at + stored),
                    bytes -> context.codec.crc(block, bytes, bytes.position(), stored) == crc)) {
                counters.checksumError();
                LOG.warn("checksum mismatch: volume map {} block {} at {}; rebuilt from the other drives' chunks",
                        map.id(), block, Address.toString(address));
                return true;
            }
        } catch (IOException e) {
            LOG.error("rebuilding {} of volume map {} failed", Address.toString(address), map.id(), e);
        }
        return false;
    }

    /** A CRC mismatch is an error only if the map still points where we read; otherwise the block moved. */
    private ReadOutcome checksumFailure(long block, long address) {
        long[] now = new long[2];
        map.lookup(block, now);
        if (now[0] != address) {
            return ReadOutcome.MOVED;
        }
        counters.checksumError();
        LOG.error("checksum mismatch: volume map {} block {} at {}; returning a media error", map.id(), block,
                Address.toString(address));
        return ReadOutcome.LOST;
    }
}
