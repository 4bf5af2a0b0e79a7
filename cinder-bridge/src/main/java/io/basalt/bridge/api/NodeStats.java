package io.basalt.bridge.api;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * Capacity and usage of a node, as {@code GET /api/v1/stats} returns it and Cinder's pool stats need.
 *
 * @param totalBytes               usable capacity of the node's drives
 * @param freeBytes                capacity not holding live data (reclaimable space counts as free)
 * @param usedBytes                bytes of live data on the drives, after compression
 * @param provisionedBytes         sum of the sizes of all volumes
 * @param maxOversubscriptionRatio provisioned bytes may reach {@code totalBytes} times this
 * @param compressionRatio         logical bytes written and still mapped / bytes they occupy (1.0 if none)
 * @param writeAmplification       bytes written to drives / bytes written by hosts (1.0 before any write)
 * @param volumes                  number of volumes
 * @param snapshots                number of snapshots
 * @param engineFailure            null (absent in JSON) while the storage engine works; after a drive write or sync error, that
 *                                 error: the engine acknowledges no write or flush until the node is restarted
 * @param rawBytes                 bytes of the drives the node's segments occupy, parity included: usable
 *                                 capacity (before the garbage collector's reserve) × (k+m)/k with erasure coding
 * @param erasureCode              the layout across the drives, {@code k+m} or {@code none}
 * @param failedDrives             drives that failed (not yet replaced), with why
 * @param rebuild                  the running rebuild of a replaced drive, or the last one since the start;
 *                                 absent if none ran
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeStats(long totalBytes, long freeBytes, long usedBytes, long provisionedBytes,
                        double maxOversubscriptionRatio, double compressionRatio, double writeAmplification,
                        int volumes, int snapshots, String engineFailure, long rawBytes, String erasureCode,
                        List<NodeDrive> failedDrives, RebuildStatus rebuild) {
    public NodeStats {
        failedDrives = List.copyOf(failedDrives);
    }
}
