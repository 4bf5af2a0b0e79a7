package io.basalt.service.config;

import io.basalt.service.engine.EngineConfig;
import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.drive.FileMedia;
import io.basalt.service.engine.drive.MemoryMedia;
import io.basalt.service.engine.drive.NodeMedia;
import io.basalt.service.engine.ec.ErasureCode;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * The storage engine's settings.
 *
 * @param drives              configured drives; empty means {@code <data>/drives/drive0.img}
 * @param driveSize           size of a drive file the node creates
 * @param segmentSize         bytes per log segment
 * @param syncEveryWrite      acknowledge writes only once durable (no volatile write cache)
 * @param maxOversubscription provisioned bytes may reach capacity times this
 * @param checkpointBytes     log bytes between checkpoints
 * @param checkpointSeconds   longest time between checkpoints while anything is written
 * @param throttleSeconds     longest a write waits for free space before Capacity Exceeded
 * @param formatDrives        format configured drives that exist and are blank (see docs/storage-engine.md)
 * @param memoryDrives        one drive of {@code driveSize} in memory instead of files or devices: for
 *                            benchmarks and tests, nothing survives the process
 * @param erasureCode         a new node's layout across its drives; null: the default for the drive count
 * @param scrubBytesPerSecond rate of the background scrub; 0: no scrub
 * @param rebuildBytesPerSecond most bytes per second a replaced drive is rebuilt at
 */
public record EngineSettings(List<Path> drives, long driveSize, int segmentSize, boolean syncEveryWrite,
                             double maxOversubscription, long checkpointBytes, long checkpointSeconds,
                             long throttleSeconds, boolean formatDrives, boolean memoryDrives,
                             ErasureCode erasureCode, long scrubBytesPerSecond, long rebuildBytesPerSecond) {

    /** Without a scrub, at the default rebuild rate. */
    public EngineSettings(List<Path> drives, long driveSize, int segmentSize, boolean syncEveryWrite,
                          double maxOversubscription, long checkpointBytes, long checkpointSeconds,
                          long throttleSeconds, boolean formatDrives, boolean memoryDrives,
                          ErasureCode erasureCode) {
        this(drives, driveSize, segmentSize, syncEveryWrite, maxOversubscription, checkpointBytes, checkpointSeconds,
                throttleSeconds, formatDrives, memoryDrives, erasureCode, 0, DriveSet.DEFAULT_REBUILD_BYTES_PER_SECOND);
    }

    /** The default layout for the drive count. */
    public EngineSettings(List<Path> drives, long driveSize, int segmentSize, boolean syncEveryWrite,
                          double maxOversubscription, long checkpointBytes, long checkpointSeconds,
                          long throttleSeconds, boolean formatDrives, boolean memoryDrives) {
        this(drives, driveSize, segmentSize, syncEveryWrite, maxOversubscription, checkpointBytes, checkpointSeconds,
                throttleSeconds, formatDrives, memoryDrives, null);
    }

    /** Drives on files or devices. */
    public EngineSettings(List<Path> drives, long driveSize, int segmentSize, boolean syncEveryWrite,
                          double maxOversubscription, long checkpointBytes, long checkpointSeconds,
                          long throttleSeconds, boolean formatDrives) {
        this(drives, driveSize, segmentSize, syncEveryWrite, maxOversubscription, checkpointBytes, checkpointSeconds,
                throttleSeconds, formatDrives, false);
    }

    public EngineSettings {
        drives = List.copyOf(drives);
    }

    /** Where the drives are: a fresh set of memory drives, or the files and devices they name. */
    public NodeMedia media() {
        return memoryDrives ? new MemoryMedia() : FileMedia.INSTANCE;
    }

    /** The engine's configuration for a node with ID {@code nodeId} whose data directory is {@code dataDir}. */
    public EngineConfig engineConfig(Path dataDir, UUID nodeId) {
        List<Path> paths = drives.isEmpty() ? List.of(dataDir.resolve("drives").resolve("drive0.img")) : drives;
        return new EngineConfig(paths, driveSize, dataDir.resolve("engine"), nodeId, segmentSize, syncEveryWrite,
                checkpointBytes, checkpointSeconds * 1000, throttleSeconds * 1000, maxOversubscription, formatDrives,
                erasureCode);
    }
}
