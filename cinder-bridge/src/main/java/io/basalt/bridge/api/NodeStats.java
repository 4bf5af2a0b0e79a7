package io.basalt.bridge.api;

import com.fasterxml.jackson.annotation.JsonInclude;

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
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeStats(long totalBytes, long freeBytes, long usedBytes, long provisionedBytes,
                        double maxOversubscriptionRatio, double compressionRatio, double writeAmplification,
                        int volumes, int snapshots, String engineFailure) {
}
