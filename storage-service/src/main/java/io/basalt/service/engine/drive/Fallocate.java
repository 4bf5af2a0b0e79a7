package io.basalt.service.engine.drive;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * Reserves a file's blocks with libc's {@code posix_fallocate}, called through java.lang.foreign (the
 * JDK has no call for it). A sparse drive file gets its blocks only when written back, so a full host
 * file system shows up as a failed writeback after the write was acknowledged; reserved blocks cannot
 * run out. Writing zeros would not do: it allocates too, but costs the whole size in writes.
 */
final class Fallocate {
    private static final MethodHandle POSIX_FALLOCATE = Libc.LINKER.downcallHandle(
            Libc.LOOKUP.find("posix_fallocate").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));

    private Fallocate() {
    }

    /** Allocates every block of the first {@code bytes} of the regular file {@code path}. */
    static void reserve(Path path, long bytes) throws IOException {
        try {
            int fd = Libc.open(path, Libc.O_WRONLY | Libc.O_CLOEXEC);
            if (fd < 0) {
                throw new IOException("cannot open " + path + " to reserve its space");
            }
            int error;
            try {
                // Returns the error number itself rather than setting errno.
                error = (int) POSIX_FALLOCATE.invokeExact(fd, 0L, bytes);
            } finally {
                Libc.close(fd);
            }
            if (error != 0) {
                throw new IOException("cannot reserve " + bytes + " bytes for " + path + " (posix_fallocate error "
                        + error + (error == 28 ? ": no space left on the file system" : "") + ")");
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("posix_fallocate failed for " + path, e);
        }
    }
}
