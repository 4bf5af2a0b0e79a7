package io.basalt.bridge.api;

/**
 * Physical space a volume or snapshot occupies. Thin provisioning means only written blocks count.
 *
 * @param mappedBytes    logical bytes that hold data (written and not deallocated)
 * @param storedBytes    bytes those blocks occupy on the drives, after compression
 * @param exclusiveBytes part of {@code storedBytes} that nothing else references: what deleting frees
 * @param sharedBytes    part of {@code storedBytes} also referenced by snapshots or clones
 */
public record SpaceUsage(long mappedBytes, long storedBytes, long exclusiveBytes, long sharedBytes) {
    public static final SpaceUsage EMPTY = new SpaceUsage(0, 0, 0, 0);
}
