package io.basalt.service.metrics;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.IoObserver;
import io.basalt.nvmetcp.stats.PerThreadCounters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * The I/O meters of one volume, created up front so that recording a completion, which happens on
 * an event loop for every command, allocates nothing. The figures are counted per event loop
 * ({@link PerThreadCounters}: no counter that two cores write, no compare-and-set per command, as
 * Micrometer's own timers have for their maximum) and summed when scraped, through function meters.
 */
final class VolumeIoMeters implements IoObserver {
    static final String LATENCY = "basalt.volume.io.latency";
    static final String BYTES = "basalt.volume.io";
    static final String ERRORS = "basalt.volume.io.errors";

    /** Operation tag values, indexed as {@link #operationIndex} numbers them. */
    private static final String[] OPERATIONS = {"read", "write", "flush", "write_zeroes", "dataset_management", "other"};

    /** Counters of one operation, at {@code operation * FIGURES}: commands, their nanoseconds, bytes, errors. */
    private static final int COMMANDS = 0;
    private static final int NANOS = 1;
    private static final int BYTES_MOVED = 2;
    private static final int FAILED = 3;
    private static final int FIGURES = 4;

    /** Held here because function meters reference their source only weakly. */
    private final PerThreadCounters counts = new PerThreadCounters(OPERATIONS.length * FIGURES);
    private final List<Meter> meters = new ArrayList<>();
    /** Held here because a function counter references its source only weakly. */
    private final DoubleSupplier throttledSeconds;

    static final String COMPRESSION = "basalt.volume.compression.ratio";
    static final String THROTTLED = "basalt.volume.qos.throttled";

    VolumeIoMeters(MeterRegistry registry, String volumeId, String volumeName, DoubleSupplier compressionRatio,
                   DoubleSupplier throttledSeconds) {
        this.throttledSeconds = throttledSeconds;
        meters.add(Gauge.builder(COMPRESSION, compressionRatio, DoubleSupplier::getAsDouble)
                .description("Logical bytes mapped per byte stored").tags("volume", volumeId, "name", volumeName)
                .strongReference(true).register(registry));
        // The data plane sums the waits itself (a LongAdder per volume): read when scraped, nothing per command here.
        meters.add(FunctionCounter.builder(THROTTLED, throttledSeconds, DoubleSupplier::getAsDouble)
                .description("Time the volume's commands waited for their QoS slot").baseUnit("seconds")
                .tags("volume", volumeId, "name", volumeName).register(registry));
        for (int i = 0; i < OPERATIONS.length; i++) {
            Tags tags = Tags.of("volume", volumeId, "name", volumeName, "op", OPERATIONS[i]);
            int at = i * FIGURES;
            meters.add(FunctionTimer.builder(LATENCY, counts, c -> c.sum(at + COMMANDS), c -> c.sum(at + NANOS),
                            TimeUnit.NANOSECONDS)
                    .description("Latency of completed I/O commands").tags(tags).register(registry));
            meters.add(FunctionCounter.builder(BYTES, counts, c -> c.sum(at + BYTES_MOVED))
                    .description("Bytes transferred by I/O commands").baseUnit("bytes").tags(tags).register(registry));
            meters.add(FunctionCounter.builder(ERRORS, counts, c -> c.sum(at + FAILED))
                    .description("I/O commands completed with an error status").tags(tags).register(registry));
        }
    }

    @Override
    public void completed(int opcode, long byteCount, long latencyNanos, int status) {
        int at = operationIndex(opcode) * FIGURES;
        long[] mine = counts.stripe();
        PerThreadCounters.add(mine, at + COMMANDS, 1);
        PerThreadCounters.add(mine, at + NANOS, latencyNanos);
        if (byteCount > 0) {
            PerThreadCounters.add(mine, at + BYTES_MOVED, byteCount);
        }
        if (!Status.isSuccess(status)) {
            PerThreadCounters.add(mine, at + FAILED, 1);
        }
    }

    void remove(MeterRegistry registry) {
        meters.forEach(registry::remove);
    }

    private static int operationIndex(int opcode) {
        return switch (opcode) {
            case Opcodes.IO_READ -> 0;
            case Opcodes.IO_WRITE -> 1;
            case Opcodes.IO_FLUSH -> 2;
            case Opcodes.IO_WRITE_ZEROES -> 3;
            case Opcodes.IO_DATASET_MANAGEMENT -> 4;
            default -> 5;
        };
    }
}
