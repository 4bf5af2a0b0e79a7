package io.basalt.service.engine.drive;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Drives in the process's memory ({@code engine.drives=memory:SIZE}): the whole
 * engine with nothing between it and RAM, to compare the data path with SPDK's malloc bdev like for
 * like and to run tests without files. Nothing survives the process: a node on memory drives starts
 * empty every time. A drive holds its whole size from its creation until the media is closed.
 */
public final class MemoryMedia implements NodeMedia {
    private final Map<Path, MemoryDrive> drives = new ConcurrentHashMap<>();
    /** Closed explicitly, not left to the garbage collector, which would not notice gigabytes off its heap. */
    private final Arena arena = Arena.ofShared();

    @Override
    public DriveIo open(Path path) {
        return drives.get(path);
    }

    @Override
    public DriveIo create(Path path, long bytes, ByteBuffer head) throws IOException {
        MemoryDrive drive = new MemoryDrive(bytes, arena);
        drive.write(new ByteBuffer[] {head.duplicate()}, 0);
        drives.put(path, drive);
        return drive;
    }

    /** Memory drives never had a checkpoint file: nothing to read or delete. */
    @Override
    public MetadataFiles metadata(Path directory) {
        return new MetadataFiles() {
            @Override
            public InputStream read(String name) {
                return null;
            }

            @Override
            public void delete(String name) {
            }
        };
    }

    /** Frees every drive's memory: only once nothing reads or writes them (their engines are closed). */
    @Override
    public void close() {
        drives.clear();
        arena.close();
    }
}
