package io.basalt.service.metrics;

import io.basalt.service.engine.Engine;
import io.basalt.service.engine.drive.DriveRebuild;
import io.basalt.service.engine.drive.DriveSet;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.function.ToDoubleFunction;

/**
 * The node's drives being rebuilt after a replacement, and its raw capacity, as gauges (Prometheus:
 * {@code basalt_engine_rebuild_*}, {@code basalt_engine_drives_rebuilding}, {@code basalt_engine_raw_bytes}).
 * Before any rebuild since the start the rebuild gauges are 0.
 */
public final class RebuildGauges {
    private RebuildGauges() {
    }

    public static void register(MeterRegistry registry, Engine engine) {
        rebuild(registry, engine, "basalt.engine.rebuild.running", "1 while a replaced drive is being rebuilt",
                progress -> progress.running() ? 1 : 0);
        rebuild(registry, engine, "basalt.engine.rebuild.done.bytes", "Bytes of the replaced drive's chunks rebuilt",
                DriveRebuild.Progress::doneBytes);
        rebuild(registry, engine, "basalt.engine.rebuild.total.bytes", "Bytes of the replaced drive's chunks in all",
                DriveRebuild.Progress::totalBytes);
        rebuild(registry, engine, "basalt.engine.rebuild.percent", "How far the rebuild is, 0 to 100",
                DriveRebuild.Progress::percent);
        rebuild(registry, engine, "basalt.engine.rebuild.bytes.per.second", "The rebuild's rate since it started",
                DriveRebuild.Progress::bytesPerSecond);
        rebuild(registry, engine, "basalt.engine.rebuild.eta.seconds",
                "Seconds the rebuild needs still at its rate (-1 while unknown)", DriveRebuild.Progress::etaSeconds);
        Gauge.builder("basalt.engine.drives.rebuilding", engine, e -> e.driveStates().stream()
                        .filter(d -> d.condition() == DriveSet.DriveCondition.REBUILDING).count())
                .description("Replaced drives whose chunks are not all rebuilt yet").strongReference(true)
                .register(registry);
        Gauge.builder("basalt.engine.raw.bytes", engine, Engine::rawBytes)
                .description("Drive bytes the node's segments occupy, parity included (usable x (k+m)/k)")
                .strongReference(true).register(registry);
    }

    private static void rebuild(MeterRegistry registry, Engine engine, String name, String description,
                                ToDoubleFunction<DriveRebuild.Progress> value) {
        Gauge.builder(name, engine, e -> e.rebuildProgress().map(value::applyAsDouble).orElse(0.0))
                .description(description).strongReference(true).register(registry);
    }
}
