package io.basalt.service.metrics;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.IoObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * The I/O meters of one volume, created up front so that recording a completion, which happens on
 * an event loop for every command, allocates nothing.
 */
final class VolumeIoMeters implements IoObserver {
    static final String LATENCY = "basalt.volume.io.latency";
    static final String BYTES = "basalt.volume.io";
    static final String ERRORS = "basalt.volume.io.errors";

    /** Operation tag values, indexed as {@link #operationIndex} numbers them. */
    private static final String[] OPERATIONS = {"read", "write", "flush", "write_zeroes", "dataset_management", "other"};

    private final Timer[] latency = new Timer[OPERATIONS.length];
    private final Counter[] bytes = new Counter[OPERATIONS.length];
    private final Counter[] errors = new Counter[OPERATIONS.length];
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
            latency[i] = Timer.builder(LATENCY).description("Latency of completed I/O commands")
                    .tags(tags).register(registry);
            bytes[i] = Counter.builder(BYTES).description("Bytes transferred by I/O commands")
                    .baseUnit("bytes").tags(tags).register(registry);
            errors[i] = Counter.builder(ERRORS).description("I/O commands completed with an error status")
                    .tags(tags).register(registry);
            meters.addAll(List.of(latency[i], bytes[i], errors[i]));
        }
    }

    @Override
    public void completed(int opcode, long byteCount, long latencyNanos, int status) {
        int op = operationIndex(opcode);
        latency[op].record(latencyNanos, TimeUnit.NANOSECONDS);
        if (byteCount > 0) {
            bytes[op].increment(byteCount);
        }
        if (!Status.isSuccess(status)) {
            errors[op].increment();
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
