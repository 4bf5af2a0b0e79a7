package io.basalt.service.engine.drive;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;

/**
 * A drive in off-heap memory, all of it allocated (and so zeroed and touched) when the drive is
 * created, as SPDK's malloc bdev takes its buffer at creation: a node on memory drives holds their
 * whole size from its start, fails then if the memory is not there rather than later, and no write
 * pays for a page the process touches for the first time (about 2 ms per 4 MiB on these virtual
 * machines, a quarter of a core at 0.4 GB/s of writes). The memory is freed when the media that made
 * the drive is closed. Reads come from any thread, writes from the log writer and the checkpoint
 * thread (to different segments, which may share a chunk).
 */
final class MemoryDrive implements DriveIo {
    private static final int CHUNK_SHIFT = 22;
    private static final long CHUNK = 1L << CHUNK_SHIFT;

    private final long size;
    /**
     * Each chunk's memory as a buffer made once (a buffer cannot span more than 2 GiB): reads and writes
     * copy with absolute bulk puts, which neither move a shared buffer's position nor allocate a view
     * per call (a MemorySegment per call did).
     */
    private final ByteBuffer[] chunks;

    /** Allocates {@code size} bytes of zeros in {@code arena}, which outlives the drive's reopens. */
    MemoryDrive(long size, Arena arena) {
        this.size = size;
        this.chunks = new ByteBuffer[Math.toIntExact((size + CHUNK - 1) >> CHUNK_SHIFT)];
        for (int i = 0; i < chunks.length; i++) {
            chunks[i] = arena.allocate(Math.min(CHUNK, size - ((long) i << CHUNK_SHIFT)), 4096).asByteBuffer();
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(ByteBuffer destination, long position) throws IOException {
        int length = destination.remaining();
        check(position, length);
        int done = 0;
        while (done < length) {
            long at = position + done;
            int index = (int) (at >> CHUNK_SHIFT);
            int offset = (int) (at & (CHUNK - 1));
            int piece = (int) Math.min(length - done, CHUNK - offset);
            destination.put(destination.position() + done, chunks[index], offset, piece);
            done += piece;
        }
        destination.position(destination.position() + length);
    }

    /** Memory never makes a reader wait. */
    @Override
    public boolean readCached(ByteBuffer destination, long position) {
        try {
            read(destination, position);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void write(ByteBuffer[] parts, long position) throws IOException {
        long at = position;
        for (ByteBuffer part : parts) {
            int length = part.remaining();
            check(at, length);
            int done = 0;
            while (done < length) {
                long place = at + done;
                int index = (int) (place >> CHUNK_SHIFT);
                int offset = (int) (place & (CHUNK - 1));
                int piece = (int) Math.min(length - done, CHUNK - offset);
                chunks[index].put(offset, part, part.position() + done, piece);
                done += piece;
            }
            part.position(part.position() + length);
            at += length;
        }
    }

    /** Nothing to make durable: memory is as durable as it gets, which is not at all. */
    @Override
    public void sync() {
    }

    /** The drive stays in its media, as a file stays on disk, until the media is closed. */
    @Override
    public void close() {
    }

    private void check(long position, long length) throws EOFException {
        if (position < 0 || position + length > size) {
            throw new EOFException("access of " + length + " bytes at " + position + " past the end of a "
                    + size + "-byte memory drive");
        }
    }
}
