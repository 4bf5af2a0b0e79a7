package io.basalt.service.cluster;

/**
 * A revert of a replicated volume to one of its snapshots under way, in its record
 * ({@link VolumeDesire#revert}): the API writes it with {@code generation} 0; the primary, with the
 * volume's writes parked, reverts its copy and writes it with the generation of that record, which
 * every in-sync secondary applies by reverting its own copy (once: a copy that already reported that
 * generation does not again); the primary then removes it and lets the writes go on. A revert the
 * primary could not start is written back with {@code error} for the API to answer, and removed by it.
 *
 * @param snapshotId the snapshot, one of the volume's in its record
 * @param generation 0 until the primary reverted its copy; then the generation at which the secondaries revert
 * @param error      why the primary did not revert, else null
 */
record RevertEntry(String snapshotId, long generation, String error) {
    RevertEntry {
        if (snapshotId == null) {
            throw new IllegalArgumentException("a revert needs its snapshot");
        }
    }
}
