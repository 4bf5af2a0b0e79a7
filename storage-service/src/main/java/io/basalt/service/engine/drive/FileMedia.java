package io.basalt.service.engine.drive;

import io.basalt.service.files.AtomicFiles;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/** Drives that are block devices or files, and metadata files in the node's data directory. */
public final class FileMedia implements NodeMedia {
    public static final FileMedia INSTANCE = new FileMedia();

    private FileMedia() {
    }

    @Override
    public DriveIo open(Path path) throws IOException {
        if (!Files.exists(path)) {
            return null;
        }
        if (Files.isRegularFile(path)) {
            // Drive files made before they were preallocated are sparse: reserve their blocks now.
            Fallocate.reserve(path, Files.size(path));
        }
        return new FileDrive(path);
    }

    @Override
    public DriveIo create(Path path, long bytes, ByteBuffer head) throws IOException {
        Path directory = path.toAbsolutePath().getParent();
        Files.createDirectories(directory);
        Path partial = path.resolveSibling(path.getFileName() + ".partial");
        // Only ever a leftover of a crash while this node created the drive.
        Files.deleteIfExists(partial);
        try (FileChannel file = FileChannel.open(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            Fallocate.reserve(partial, bytes);
            FileDrive.writeFully(file, head.duplicate(), 0);
            file.force(true);
        }
        Files.move(partial, path, StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.syncDirectory(directory);
        return new FileDrive(path);
    }

    @Override
    public MetadataFiles metadata(Path directory) {
        return new MetadataFiles() {
            @Override
            public InputStream read(String name) throws IOException {
                Path file = directory.resolve(name);
                return Files.exists(file) ? new BufferedInputStream(Files.newInputStream(file), 1 << 20) : null;
            }

            @Override
            public void delete(String name) throws IOException {
                if (Files.deleteIfExists(directory.resolve(name))) {
                    AtomicFiles.syncDirectory(directory);
                }
            }
        };
    }

    /** A drive through a {@link FileChannel}. */
    private static final class FileDrive implements DriveIo {
        private final FileChannel channel;
        /** Null where the system offers no non-blocking reads: every read then goes to the read pool. */
        private final CachedReads cached;
        private final Path path;
        /** The file's identity (device and inode) when opened; null for a block device, which is not checked. */
        private final Object fileKey;
        /** The file's size when opened: drive files are preallocated and never change size. */
        private final long openedSize;

        FileDrive(Path path) throws IOException {
            this.channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            this.cached = CachedReads.open(path);
            this.path = path;
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            this.fileKey = attributes.isRegularFile() ? attributes.fileKey() : null;
            this.openedSize = channel.size();
        }

        @Override
        public void checkPresent() throws IOException {
            if (fileKey == null) {
                return;
            }
            long size = channel.size();
            if (size < openedSize) {
                throw new IOException("drive file " + path + " was truncated to " + size + " of its " + openedSize
                        + " bytes");
            }
            BasicFileAttributes now;
            try {
                now = Files.readAttributes(path, BasicFileAttributes.class);
            } catch (NoSuchFileException e) {
                throw new IOException("drive file " + path + " was removed", e);
            }
            if (!fileKey.equals(now.fileKey())) {
                throw new IOException("drive file " + path + " was replaced by another file");
            }
        }

        @Override
        public boolean readCached(ByteBuffer destination, long position) {
            return cached != null && cached.read(destination, position);
        }

        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public void read(ByteBuffer destination, long position) throws IOException {
            long at = position;
            while (destination.hasRemaining()) {
                int n = channel.read(destination, at);
                if (n < 0) {
                    throw new EOFException("read past the end of a drive at " + at);
                }
                at += n;
            }
        }

        /**
         * Gathering write at {@code position}. The log writer and the checkpoint thread both write; this
         * monitor keeps one's move of the channel's position from racing the other's write; positional
         * reads ignore it.
         */
        @Override
        public synchronized void write(ByteBuffer[] parts, long position) throws IOException {
            long total = 0;
            for (ByteBuffer part : parts) {
                total += part.remaining();
            }
            channel.position(position);
            long done = 0;
            while (done < total) {
                done += channel.write(parts);
            }
        }

        @Override
        public void sync() throws IOException {
            channel.force(false);
        }

        @Override
        public void close() throws IOException {
            if (cached != null) {
                cached.close();
            }
            channel.close();
        }

        static void writeFully(FileChannel channel, ByteBuffer source, long position) throws IOException {
            long at = position;
            while (source.hasRemaining()) {
                at += channel.write(source, at);
            }
        }
    }
}
