package io.basalt.nvmetcp.nvmet;

/**
 * Limits a target advertises and enforces.
 *
 * @param maxIoQueues       I/O queues a controller may create (Set Features Number of Queues caps here)
 * @param maxQueueSize      entries per I/O queue (CAP.MQES + 1)
 * @param inCapsuleDataSize bytes of write data a host may send inside a command capsule (IOCCSZ)
 * @param maxH2CData        largest H2CData PDU payload accepted (MAXH2CDATA in ICResp)
 * @param maxTransferSize   largest single transfer (MDTS), a power of two multiple of 4 KiB
 * @param serial            controller serial number reported in Identify Controller
 * @param limits            what one host may hold of the node's memory and connections
 */
public record TargetOptions(int maxIoQueues, int maxQueueSize, int inCapsuleDataSize, int maxH2CData,
                            int maxTransferSize, String serial, ResourceLimits limits) {

    /**
     * The defaults, chosen from {@code bin/basalt bench --transfer-sweep} (docs/benchmarks.md, "NVMe/TCP
     * transfer settings"): writes of up to 32 KiB in the capsule, which saves them the R2T round trip (16
     * and 32 KiB writes at queue depth 1: 1.7 to 2.5 times the IOPS through R2T, at depth 32 1.0 to 1.2;
     * fewer target cycles per write), data the budgets count like any other (docs/protocol.md, "Resource
     * limits"); MAXH2CDATA 128 KiB, as neither 32 KiB
     * nor 1 MiB PDUs moved 1 MiB writes measurably faster, and it bounds what a connection's frame decoder
     * gathers before a PDU is checked.
     */
    public static TargetOptions defaults(String serial) {
        return new TargetOptions(16, 128, 32 * 1024, 128 * 1024, 1024 * 1024, serial);
    }

    /** With the default {@link ResourceLimits}. */
    public TargetOptions(int maxIoQueues, int maxQueueSize, int inCapsuleDataSize, int maxH2CData,
                         int maxTransferSize, String serial) {
        this(maxIoQueues, maxQueueSize, inCapsuleDataSize, maxH2CData, maxTransferSize, serial, ResourceLimits.defaults());
    }

    public TargetOptions withLimits(ResourceLimits limits) {
        return new TargetOptions(maxIoQueues, maxQueueSize, inCapsuleDataSize, maxH2CData, maxTransferSize, serial, limits);
    }

    public TargetOptions {
        if (maxIoQueues < 1 || maxIoQueues > 0xFFFE) {
            throw new IllegalArgumentException("maxIoQueues out of range: " + maxIoQueues);
        }
        if (maxQueueSize < 2 || maxQueueSize > 1024) {
            throw new IllegalArgumentException("maxQueueSize out of range: " + maxQueueSize);
        }
        if (inCapsuleDataSize < 0 || inCapsuleDataSize % 16 != 0 || inCapsuleDataSize > 131072) {
            throw new IllegalArgumentException("inCapsuleDataSize must be a multiple of 16 up to 128 KiB");
        }
        if (maxH2CData < 4096 || maxH2CData % 4 != 0) {
            throw new IllegalArgumentException("maxH2CData must be at least 4096 and a multiple of 4");
        }
        if (maxTransferSize < 4096 || Integer.bitCount(maxTransferSize) != 1) {
            throw new IllegalArgumentException("maxTransferSize must be a power of two >= 4096");
        }
        // A command larger than the connection's budget would wait for bytes that never come.
        int largest = Math.max(maxTransferSize, inCapsuleDataSize);
        if (limits.connectionDataBytes() < largest) {
            throw new IllegalArgumentException("data bytes per connection (" + limits.connectionDataBytes()
                    + ") must be at least the largest transfer or in-capsule data (" + largest + ")");
        }
    }
}
