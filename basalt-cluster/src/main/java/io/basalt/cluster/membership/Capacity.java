package io.basalt.cluster.membership;

/** A node's space as its engine counts it: what the drives hold in all, and what is still free. */
public record Capacity(long totalBytes, long freeBytes) {
    public Capacity {
        if (totalBytes < 0 || freeBytes < 0 || freeBytes > totalBytes) {
            throw new IllegalArgumentException("capacity must be 0 <= free <= total, not free " + freeBytes
                    + " of " + totalBytes);
        }
    }
}
