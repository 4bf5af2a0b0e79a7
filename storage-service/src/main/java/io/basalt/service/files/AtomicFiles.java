package io.basalt.service.files;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The one way the node writes its files, so that a crash or power cut leaves either the old content
 * or the new, never a mix and never an empty file.
 */
public final class AtomicFiles {
    private static final FileAttribute<?> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private AtomicFiles() {
    }

    /** Content written as a stream, for files too large to hold in one array. */
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Replaces {@code target}: temp file, fsync, rename over the target, fsync the directory. */
    public static void write(Path target, byte[] content) throws IOException {
        write(target, out -> out.write(content));
    }

    /** {@link #write(Path, byte[])} with streamed content. */
    public static void write(Path target, Content content) throws IOException {
        write(target, content, new FileAttribute<?>[0]);
    }

    /**
     * {@link #write(Path, byte[])} for secrets: the file is readable and writable by its owner only
     * (mode 0600) from the moment it is created, so no other user ever sees its content.
     */
    public static void writeOwnerOnly(Path target, byte[] content) throws IOException {
        write(target, out -> out.write(content), OWNER_ONLY);
    }

    private static void write(Path target, Content content, FileAttribute<?>... attributes) throws IOException {
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        // A temp file left by a crash keeps the permissions it was created with: start afresh so
        // that the attributes asked for are the ones the new file gets.
        Files.deleteIfExists(temp);
        try (FileChannel channel = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), attributes)) {
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 20);
            content.writeTo(out);
            out.flush();
            channel.force(true);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(target.toAbsolutePath().getParent());
    }

    /** Makes creations, renames and deletions of directory entries durable. */
    public static void syncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
