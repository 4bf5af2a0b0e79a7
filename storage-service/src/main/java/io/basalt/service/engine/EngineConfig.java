package io.basalt.service.engine;

import io.basalt.service.engine.ec.ErasureCode;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * How the engine is set up.
 *
 * @param drives                   block devices or files, in a fixed order; files are created if missing
 * @param driveCreateBytes         size of a drive file the engine creates
 * @param metadataDir              where a node of drive format 2 kept its checkpoint file, read once when it
 *                                 upgrades (checkpoints are on the drives now)
 * @param nodeId                   the node the drives must belong to
 * @param segmentSize              bytes per segment, a power of two from 2 MiB to 16 MiB
 * @param syncEveryWrite           make every write durable before acknowledging it (no volatile cache)
 * @param checkpointEveryBytes     log bytes after which a checkpoint is taken
 * @param checkpointEveryMillis    time after which a checkpoint is taken if anything was logged
 * @param throttleMillis           longest a host write waits for garbage collection before Capacity Exceeded
 * @param maxOversubscription      provisioned bytes may reach capacity times this
 * @param formatDrives             format configured drives that exist and are blank (block devices); drive
 *                                 files the engine creates itself are always formatted
 * @param erasureCode              how a new node's segments are protected across its drives (null: the
 *                                 default for its drive count, see {@link ErasureCode#defaultFor}); an
 *                                 existing node keeps its drives' layout and refuses another one named here
 */
public record EngineConfig(List<Path> drives, long driveCreateBytes, Path metadataDir, UUID nodeId, int segmentSize,
                           boolean syncEveryWrite, long checkpointEveryBytes, long checkpointEveryMillis,
                           long throttleMillis, double maxOversubscription, boolean formatDrives,
                           ErasureCode erasureCode) {
    public static final int DEFAULT_SEGMENT_SIZE = 4 << 20;

    /** Without erasure coding. */
    public EngineConfig(List<Path> drives, long driveCreateBytes, Path metadataDir, UUID nodeId, int segmentSize,
                        boolean syncEveryWrite, long checkpointEveryBytes, long checkpointEveryMillis,
                        long throttleMillis, double maxOversubscription, boolean formatDrives) {
        this(drives, driveCreateBytes, metadataDir, nodeId, segmentSize, syncEveryWrite, checkpointEveryBytes,
                checkpointEveryMillis, throttleMillis, maxOversubscription, formatDrives, ErasureCode.NONE);
    }

    /** Without erasure coding or formatting existing blank drives. */
    public EngineConfig(List<Path> drives, long driveCreateBytes, Path metadataDir, UUID nodeId, int segmentSize,
                        boolean syncEveryWrite, long checkpointEveryBytes, long checkpointEveryMillis,
                        long throttleMillis, double maxOversubscription) {
        this(drives, driveCreateBytes, metadataDir, nodeId, segmentSize, syncEveryWrite, checkpointEveryBytes,
                checkpointEveryMillis, throttleMillis, maxOversubscription, false);
    }

    public EngineConfig {
        drives = List.copyOf(drives);
        if (drives.isEmpty()) {
            throw new IllegalArgumentException("the engine needs at least one drive");
        }
        if (Integer.bitCount(segmentSize) != 1 || segmentSize < (2 << 20) || segmentSize > (16 << 20)) {
            throw new IllegalArgumentException("segment size must be a power of two from 2 MiB to 16 MiB, not "
                    + segmentSize);
        }
        if (maxOversubscription < 1.0) {
            throw new IllegalArgumentException("over-subscription ratio must be at least 1.0");
        }
    }
}
