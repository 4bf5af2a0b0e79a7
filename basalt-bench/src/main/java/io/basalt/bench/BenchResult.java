package io.basalt.bench;

/**
 * What one run measured.
 *
 * @param system     what was measured ("basalt" or "echo")
 * @param ios        I/Os completed while measuring
 * @param seconds    length of the measurement
 * @param errors     I/Os that failed (failed I/Os are not retried)
 * @param firstError the first failure, or null
 * @param allocatedPerIo heap bytes the in-process target (or echo server) allocated per I/O while measuring
 *                   ({@link TargetThreadCosts}); NaN against a target in another process
 * @param cpuMicrosPerIo CPU time the in-process target (or echo server) ran per I/O while measuring, in
 *                   microseconds ({@link TargetThreadCosts}); NaN against a target in another process
 */
record BenchResult(String system, BenchOptions options, long ios, double seconds, LatencyHistogram latencies,
                   long errors, String firstError, double allocatedPerIo, double cpuMicrosPerIo) {

    double iops() {
        return ios / seconds;
    }

    double mibPerSecond() {
        return iops() * options.ioSize() / (1 << 20);
    }

    double micros(double fraction) {
        return latencies.percentile(fraction) / 1000.0;
    }

    /** One line: workload, IOPS, bandwidth, latency percentiles, the target's allocation and CPU per I/O. */
    String summary() {
        return String.format("%-6s %-9s bs=%-6s qd=%-3d connections=%d: %,10.0f IOPS %9.1f MiB/s  "
                        + "latency p50 %7.1f us  p99 %7.1f us  p99.9 %7.1f us%s%s%s",
                system, options.workload().label(), sizeLabel(options.ioSize()), options.queueDepth(),
                options.connections(), iops(), mibPerSecond(), micros(0.50), micros(0.99), micros(0.999),
                Double.isNaN(allocatedPerIo) ? "" : String.format("  target allocated %,.0f B/IO", allocatedPerIo),
                Double.isNaN(cpuMicrosPerIo) ? "" : String.format("  target CPU %.2f us/IO", cpuMicrosPerIo),
                errors == 0 ? "" : "  ERRORS " + errors + " (first: " + firstError + ")");
    }

    static String sizeLabel(int bytes) {
        return bytes % 1024 == 0 ? bytes / 1024 + "k" : Integer.toString(bytes);
    }
}
