package io.basalt.service.metrics;

import io.basalt.service.engine.Engine;
import io.basalt.service.engine.EngineCounters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.function.DoubleSupplier;
import java.util.function.ToDoubleFunction;

/** The storage engine's space, write amplification, compression and error figures. */
public final class EngineGauges {
    private EngineGauges() {
    }

    /** Every figure comes from counters the engine keeps as it goes: a scrape never walks the maps. */
    public static void register(MeterRegistry registry, Engine engine) {
        EngineCounters counters = engine.counters();
        gauge(registry, "basalt.engine.capacity.bytes", "Usable capacity of the node's drives",
                () -> engine.stats().capacityBytes());
        gauge(registry, "basalt.engine.used.bytes", "Bytes of live data on the drives, after compression",
                () -> engine.stats().liveBytes());
        gauge(registry, "basalt.engine.free.segments", "Log segments ready to be written",
                () -> engine.stats().freeSegments());
        gauge(registry, "basalt.engine.write.amplification",
                "Bytes written to drives per byte written by hosts, since start", counters::writeAmplification);
        gauge(registry, "basalt.engine.compression.ratio", "Logical bytes mapped per byte stored, whole node",
                () -> engine.stats().compressionRatio());
        gauge(registry, "basalt.engine.failed",
                "1 once a drive write or sync failed: no write or flush is acknowledged until a restart",
                () -> engine.failure().isPresent() ? 1 : 0);
        gauge(registry, "basalt.engine.drives.failed",
                "Drives marked failed (erasure-coded node: reads rebuild their chunks, writes go on while at most m)",
                () -> engine.failedDrives().size());
        gauge(registry, "basalt.engine.recovery.seconds", "Time the last start spent recovering the maps",
                () -> engine.recovery().millis() / 1000.0);
        counter(registry, "basalt.engine.host.written.bytes", "Bytes written by hosts", counters,
                EngineCounters::hostBytesWritten);
        counter(registry, "basalt.engine.drive.written.bytes", "Bytes written to drives (data, metadata, GC)",
                counters, EngineCounters::driveBytesWritten);
        counter(registry, "basalt.engine.gc.relocated.bytes", "Bytes garbage collection moved", counters,
                EngineCounters::relocatedBytes);
        counter(registry, "basalt.engine.gc.reclaimed.segments", "Segments garbage collection freed", counters,
                EngineCounters::segmentsReclaimed);
        counter(registry, "basalt.engine.checksum.errors", "Reads that failed their checksum", counters,
                EngineCounters::checksumErrors);
        counter(registry, "basalt.engine.read.errors", "Drive reads that failed with an I/O error", counters,
                EngineCounters::readErrors);
        counter(registry, "basalt.engine.capacity.errors", "Writes refused for lack of space", counters,
                EngineCounters::capacityErrors);
        counter(registry, "basalt.engine.pooled.reads", "Reads not all in memory, done on the engine's read pool",
                counters, EngineCounters::pooledReads);
        counter(registry, "basalt.engine.syncs", "Drive syncs (group commits)", counters, EngineCounters::syncs);
        counter(registry, "basalt.engine.checkpoints", "Checkpoints written", counters, EngineCounters::checkpoints);
        scrub(registry, engine);
    }

    /** The background scrub's progress and findings (see docs/storage-engine.md, "Scrub"). */
    private static void scrub(MeterRegistry registry, Engine engine) {
        FunctionCounter.builder("basalt.engine.scrub.passes", engine, e -> e.scrubStatus().passes())
                .description("Scrub passes finished over every sealed segment").register(registry);
        FunctionCounter.builder("basalt.engine.scrub.scanned.bytes", engine, e -> e.scrubStatus().scannedBytes())
                .description("Bytes of segments the scrub checked").register(registry);
        FunctionCounter.builder("basalt.engine.scrub.repaired.chunks", engine, e -> e.scrubStatus().repairedChunks())
                .description("Damaged stripe chunks the scrub rewrote from the other drives").register(registry);
        FunctionCounter.builder("basalt.engine.scrub.repaired.bytes", engine, e -> e.scrubStatus().repairedBytes())
                .description("Bytes of damaged chunks the scrub rewrote").register(registry);
        FunctionCounter.builder("basalt.engine.scrub.unrepairable", engine, e -> e.scrubStatus().unrepairableFound())
                .description("Segments a scrub pass found damaged beyond repair (once per pass)").register(registry);
        gauge(registry, "basalt.engine.scrub.unrepairable.segments",
                "Segments the last scrub pass found damaged beyond repair: their damaged blocks read as media errors",
                () -> engine.scrubStatus().unrepairableSegments().size());
    }

    private static void gauge(MeterRegistry registry, String name, String description, DoubleSupplier value) {
        Gauge.builder(name, value, DoubleSupplier::getAsDouble).description(description).strongReference(true)
                .register(registry);
    }

    private static void counter(MeterRegistry registry, String name, String description, EngineCounters counters,
                                ToDoubleFunction<EngineCounters> value) {
        FunctionCounter.builder(name, counters, value).description(description).register(registry);
    }
}
