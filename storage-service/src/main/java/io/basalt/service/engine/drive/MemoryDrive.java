package io.basalt.service.engine.drive;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A drive in off-heap memory, allocated a chunk at a time as it is first written, so an empty drive
 * of any size costs nothing and a read of a never-written place finds zeros. Reads come from any
 * thread; writes from the log writer and the checkpoint thread (to different segments, which may
 * share a chunk), so a chunk is created once, by whichever writer first needs it (compare-and-set).
 */
final class MemoryDrive implements DriveIo {
    private static final int CHUNK_SHIFT = 22;
    private static final long CHUNK = 1L << CHUNK_SHIFT;

    private final long size;
    /** Freed by the garbage collector with the drive, not at close: the media keeps it for a reopen. */
    private final Arena arena = Arena.ofAuto();
    /**
     * Each chunk's memory as a buffer made once: reads and writes copy with absolute bulk puts, which
     * neither move a shared buffer's position nor allocate a view per call (a MemorySegment per call did).
     */
    private final AtomicReferenceArray<ByteBuffer> chunks;

    MemoryDrive(long size) {
        this.size = size;
        this.chunks = new AtomicReferenceArray<>(Math.toIntExact((size + CHUNK - 1) >> CHUNK_SHIFT));
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
            ByteBuffer chunk = chunks.get(index);
            if (chunk == null) {
                // Only places never written (a recovery scan), never a mapped block: a segment view is fine.
                MemorySegment.ofBuffer(destination).asSlice(done, piece).fill((byte) 0);
            } else {
                destination.put(destination.position() + done, chunk, offset, piece);
            }
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
                chunk(index).put(offset, part, part.position() + done, piece);
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

    /** The drive stays in its media, as a file stays on disk, until the media is dropped. */
    @Override
    public void close() {
    }

    private ByteBuffer chunk(int index) {
        ByteBuffer chunk = chunks.get(index);
        if (chunk == null) {
            // A chunk lost to the other writer stays in the arena until the drive goes: a rare 4 MiB.
            ByteBuffer fresh = arena.allocate(CHUNK, 4096).asByteBuffer();
            chunk = chunks.compareAndSet(index, null, fresh) ? fresh : chunks.get(index);
        }
        return chunk;
    }

    private void check(long position, long length) throws EOFException {
        if (position < 0 || position + length > size) {
            throw new EOFException("access of " + length + " bytes at " + position + " past the end of a "
                    + size + "-byte memory drive");
        }
    }
}
