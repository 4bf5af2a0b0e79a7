package io.basalt.service.engine;

import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.IoCallback;
import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.log.BlockCodec;
import io.basalt.service.engine.log.LogOp;
import io.basalt.service.engine.log.LogWriter;
import io.basalt.service.engine.log.SegmentTable;
import io.basalt.service.engine.map.Address;
import io.basalt.service.engine.map.VolumeMap;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A volume of the engine as the NVMe target sees it. Writes, unmaps and flushes go to the log
 * writer; reads look the blocks up in the map and read them from the drives on the calling thread
 * (the page cache answers most; see docs/storage-engine.md), checking every block's CRC32C.
 */
public final class EngineVolume implements BlockDevice {
    private static final Logger LOG = LoggerFactory.getLogger(EngineVolume.class);
    /** Netty's thread-local: event loop threads look it up by index instead of hashing. */
    private static final FastThreadLocal<ReadContext> CONTEXT = new FastThreadLocal<>() {
        @Override
        protected ReadContext initialValue() {
            return new ReadContext();
        }
    };
    /** A read of more blocks than this is split; bounds the per-thread scratch buffer. */
    private static final int MAX_RUN_BYTES = 1 << 20;

    private final VolumeMap map;
    private final DriveSet drives;
    private final SegmentTable segments;
    private final LogWriter writer;
    private final EngineCounters counters;

    EngineVolume(VolumeMap map, DriveSet drives, SegmentTable segments, LogWriter writer, EngineCounters counters) {
        this.map = map;
        this.drives = drives;
        this.segments = segments;
        this.writer = writer;
        this.counters = counters;
    }

    /** Per-thread buffers, so a read allocates nothing. */
    private static final class ReadContext {
        final long[] entry = new long[2];
        final long[] check = new long[2];
        final int[] crcs = new int[MAX_RUN_BYTES / 512];
        final BlockCodec codec = new BlockCodec();
        final ByteBuffer scratch = ByteBuffer.allocateDirect(MAX_RUN_BYTES);
        final ByteBuffer plain = ByteBuffer.allocateDirect(64 * 1024);
    }

    public int id() {
        return map.id();
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
    public void read(long lba, int blocks, ByteBuf dst, IoCallback callback) {
        if (!inRange(lba, blocks, callback)) {
            return;
        }
        callback.complete(readBlocks(lba, blocks, dst));
    }

    @Override
    public void write(long lba, int blocks, ByteBuf src, boolean fua, IoCallback callback) {
        if (inRange(lba, blocks, callback)) {
            writer.submit(new LogOp.HostWrite(map, lba, blocks, src, fua, callback, System.nanoTime()));
        }
    }

    @Override
    public void flush(IoCallback callback) {
        writer.submit(new LogOp.HostFlush(callback));
    }

    @Override
    public void writeZeroes(long lba, int blocks, IoCallback callback) {
        deallocate(lba, blocks, callback);
    }

    @Override
    public void deallocate(long lba, int blocks, IoCallback callback) {
        if (inRange(lba, blocks, callback)) {
            writer.submit(new LogOp.HostUnmap(map, lba, blocks, callback));
        }
    }

    private boolean inRange(long lba, int blocks, IoCallback callback) {
        if (map.deleted()) {
            callback.complete(Status.NAMESPACE_NOT_READY);
            return false;
        }
        if (lba < 0 || blocks < 0 || lba + blocks > map.sizeBlocks()) {
            callback.complete(Status.LBA_OUT_OF_RANGE);
            return false;
        }
        return true;
    }

    /** Reads the blocks into {@code dst}; returns the NVMe status. */
    private int readBlocks(long lba, int blocks, ByteBuf dst) {
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
                map.lookup(block, context.check);
                if (context.check[0] != address) {
                    continue;
                }
                int run = contiguousRun(block, address, Math.min(blocks - done, maxRun), context);
                int status = readRun(block, address, run, dst, context);
                if (status == RETRY && ++attempts < 100) {
                    continue;
                }
                if (status != Status.SUCCESS) {
                    return status == RETRY ? Status.UNRECOVERED_READ_ERROR : status;
                }
                done += run;
            } finally {
                segments.unpin(segment);
            }
        }
        return Status.SUCCESS;
    }

    private static final int RETRY = -1;

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
            if (Address.segment(next) != Address.segment(address) || Address.storedLength(next) != blockSize
                    || next == Address.UNMAPPED || Address.offset(next) != Address.offset(address) + run * blockSize) {
                break;
            }
            context.crcs[run] = (int) context.check[1];
            run++;
        }
        return run;
    }

    private int readRun(long block, long address, int run, ByteBuf dst, ReadContext context) {
        int blockSize = map.blockSize();
        int stored = Address.storedLength(address);
        int length = stored == blockSize ? run * blockSize : stored;
        ByteBuffer scratch = context.scratch.clear().limit(length);
        try {
            drives.read(Address.segment(address), Address.offset(address), scratch);
        } catch (IOException e) {
            LOG.error("reading {} of volume map {} failed", Address.toString(address), map.id(), e);
            return Status.UNRECOVERED_READ_ERROR;
        }
        scratch.flip();
        int at = 0;
        for (int i = 0; i < (stored == blockSize ? run : 1); i++) {
            int piece = stored == blockSize ? blockSize : stored;
            if (context.codec.crc(block + i, scratch, at, piece) != context.crcs[i]) {
                // The failing block's own address, not the run's first: compared with the first, the map
                // never matches, so the read was retried 100 times and the error neither counted nor logged.
                long failed = i == 0 ? address
                        : Address.of(Address.segment(address), Address.offset(address) + at, piece);
                return checksumFailure(block + i, failed);
            }
            at += piece;
        }
        if (stored == blockSize) {
            dst.writeBytes(scratch);
            return Status.SUCCESS;
        }
        ByteBuffer plain = context.plain.clear();
        if (!context.codec.decompress(scratch, 0, stored, plain, blockSize)) {
            return checksumFailure(block, address);
        }
        dst.writeBytes(plain.flip());
        return Status.SUCCESS;
    }

    /** A CRC mismatch is an error only if the map still points where we read; otherwise the block moved. */
    private int checksumFailure(long block, long address) {
        long[] now = new long[2];
        map.lookup(block, now);
        if (now[0] != address) {
            return RETRY;
        }
        counters.checksumError();
        LOG.error("checksum mismatch: volume map {} block {} at {}; returning a media error", map.id(), block,
                Address.toString(address));
        return Status.UNRECOVERED_READ_ERROR;
    }
}
