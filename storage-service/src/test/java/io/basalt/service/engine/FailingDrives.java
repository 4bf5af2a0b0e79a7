package io.basalt.service.engine;

import io.basalt.service.engine.drive.DriveIo;
import io.basalt.service.engine.drive.MetadataFiles;
import io.basalt.service.engine.drive.NodeMedia;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Other media whose drives can be made to fail for good: from {@link #fail} on, every read, write and
 * sync of that drive throws, also after the node reopens it (its superblock cannot be read then), as a
 * dead SSD does.
 */
final class FailingDrives implements NodeMedia {
    private final NodeMedia media;
    private final Set<Path> failed = ConcurrentHashMap.newKeySet();

    FailingDrives(NodeMedia media) {
        this.media = media;
    }

    void fail(Path drive) {
        failed.add(drive);
    }

    @Override
    public DriveIo open(Path path) throws IOException {
        DriveIo io = media.open(path);
        return io == null ? null : new Failing(path, io);
    }

    @Override
    public DriveIo create(Path path, long bytes, ByteBuffer head) throws IOException {
        return new Failing(path, media.create(path, bytes, head));
    }

    @Override
    public MetadataFiles metadata(Path directory) {
        return media.metadata(directory);
    }

    @Override
    public void close() {
        media.close();
    }

    private final class Failing implements DriveIo {
        private final Path path;
        private final DriveIo io;

        Failing(Path path, DriveIo io) {
            this.path = path;
            this.io = io;
        }

        private void check() throws IOException {
            if (failed.contains(path)) {
                throw new IOException("drive " + path + " failed (test)");
            }
        }

        @Override
        public long size() throws IOException {
            check();
            return io.size();
        }

        @Override
        public void read(ByteBuffer destination, long position) throws IOException {
            check();
            io.read(destination, position);
        }

        @Override
        public void write(ByteBuffer[] parts, long position) throws IOException {
            check();
            io.write(parts, position);
        }

        @Override
        public void sync() throws IOException {
            check();
            io.sync();
        }

        @Override
        public void close() throws IOException {
            io.close();
        }
    }
}
