package io.basalt.service.engine.drive;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Reads that never wait for a drive: Linux's {@code preadv2} with {@code RWF_NOWAIT} copies from the
 * page cache and fails with EAGAIN instead of starting I/O when a byte is not there. The engine reads
 * on the caller's thread (an event loop) this way and hands only the misses to its read pool, so a hit
 * costs one system call instead of two thread hand-offs. Called through java.lang.foreign on a
 * read-only descriptor of its own.
 */
final class CachedReads implements AutoCloseable {
    private static final int RWF_NOWAIT = 0x8;
    private static final MethodHandle PREADV2 = Libc.LINKER.downcallHandle(Libc.LOOKUP.find("preadv2").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT),
            Linker.Option.critical(false));
    /** One {@code struct iovec} (base, length) per thread, so a read allocates nothing. */
    private static final ThreadLocal<MemorySegment> IOVEC =
            ThreadLocal.withInitial(() -> Arena.global().allocate(16, 8));

    private final int fd;

    private CachedReads(int fd) {
        this.fd = fd;
    }

    /** A read-only descriptor of {@code path}; null if it cannot be had (reads then all go to the pool). */
    static CachedReads open(Path path) {
        try {
            int fd = Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC);
            return fd < 0 ? null : new CachedReads(fd);
        } catch (Throwable e) {
            return null;
        }
    }

    /**
     * Fills {@code destination} (a direct buffer) from {@code position} if every byte is in memory now;
     * false otherwise, with nothing promised about {@code destination}'s content and its position unchanged.
     */
    boolean read(ByteBuffer destination, long position) {
        if (!destination.isDirect()) {
            return false;
        }
        int length = destination.remaining();
        MemorySegment target = MemorySegment.ofBuffer(destination);
        MemorySegment iovec = IOVEC.get();
        iovec.set(ValueLayout.ADDRESS, 0, target);
        iovec.set(ValueLayout.JAVA_LONG, 8, length);
        long n;
        try {
            n = (long) PREADV2.invokeExact(fd, iovec, 1, position, RWF_NOWAIT);
        } catch (Throwable e) {
            return false;
        }
        if (n != length) {
            // EAGAIN (not cached), a short read (partly cached) or an error: the read pool does it properly.
            return false;
        }
        destination.position(destination.position() + length);
        return true;
    }

    @Override
    public void close() {
        Libc.close(fd);
    }
}
