package io.basalt.bench;

import io.basalt.service.engine.Engine;
import io.basalt.service.engine.EngineCounters;
import io.basalt.service.dataplane.VolumeDevice;
import io.basalt.service.engine.EngineVolume;
import io.basalt.service.engine.map.MapStore;
import io.netty.buffer.ByteBuf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Measurements of the storage engine on its own, driving {@link EngineVolume}s through the data-plane volume layer (no network):
 * write amplification under random overwrites at a given fill, and compression ratio and write
 * throughput by kind of data. Each runs on its own {@link BenchEngine}.
 */
final class EngineBench {
    /** Drive of the write-amplification runs: small, so that a few passes fill it and make GC work. */
    static final long WA_DRIVE_BYTES = 1L << 30;
    static final double[] WA_FILLS = {0.5, 0.7, 0.8};
    static final Skew[] WA_SKEWS = {Skew.UNIFORM, Skew.HOT_80_20, Skew.HOT_90_10};
    static final double WA_PASSES = 3;
    static final int WA_IO_SIZE = 4096;
    static final int WA_DEPTH = 32;
    /** Longest an overwrite phase runs, and most failed writes it tolerates, before it stops (a stuck engine). */
    static final long WA_MAX_SECONDS = 60;
    static final long WA_MAX_ERRORS = 1000;
    /** Drive of the compression runs (sparse): room for every case's volume without garbage collection. */
    static final long COMPRESSION_DRIVE_BYTES = 8L << 30;
    static final long COMPRESSION_VOLUME_BYTES = 256L << 20;
    static final int COMPRESSION_IO_SIZE = 128 * 1024;
    static final int COMPRESSION_DEPTH = 16;
    static final int[] COMPRESSION_BLOCK_SIZES = {512, 4096};
    private static final int FILL_IO_SIZE = 128 * 1024;
    private static final int FILL_DEPTH = 16;

    private EngineBench() {
    }

    /**
     * One write-amplification run: counters are deltas over the overwrite phase only.
     *
     * @param fill           fraction of the engine's capacity the volume takes (and the fill writes)
     * @param hostBytes      bytes hosts wrote in the overwrite phase
     * @param driveBytes     bytes the engine wrote to its drive meanwhile (log: payload, entries, headers, relocations)
     * @param relocatedBytes of those, blocks garbage collection moved
     */
    record WaResult(double fill, Skew skew, long driveSize, long capacityBytes, long volumeBytes, DeviceLoad.Result fillLoad,
                    DeviceLoad.Result overwrite, long hostBytes, long driveBytes, long relocatedBytes,
                    long segmentsReclaimed, long throttled, long capacityErrors, int freeSegmentsAfter, int segments) {
        double writeAmplification() {
            return hostBytes == 0 ? 1.0 : (double) driveBytes / hostBytes;
        }

        /** Volumes' worth of host writes the overwrite phase completed. */
        double passes() {
            return (double) overwrite.bytes() / volumeBytes;
        }

        boolean failed() {
            return fillLoad.errors() + overwrite.errors() > 0 || overwrite.stopped() != null;
        }

        String summary() {
            return String.format(Locale.ROOT, "engine write amplification at %.0f%% full, %s (volume %d MiB of %d MiB "
                            + "capacity): %.2f over %.2f passes of %s random writes; %,.0f IOPS %.1f MB/s; relocated "
                            + "%d MiB, %d segments reclaimed, %d throttled, %d capacity errors%s",
                    fill * 100, skew.label(), volumeBytes >> 20, capacityBytes >> 20, writeAmplification(), passes(),
                    BenchResult.sizeLabel(WA_IO_SIZE), overwrite.writes() / overwrite.seconds(), overwrite.mbPerSecond(),
                    relocatedBytes >> 20, segmentsReclaimed, throttled, capacityErrors,
                    failed() ? "  ERRORS " + fillLoad.errorText() + " " + overwrite.errorText() : "");
        }
    }

    /**
     * Fills a volume of {@code fill} × capacity sequentially, then overwrites it at places {@code skew}
     * picks, {@link #WA_PASSES} times its size.
     */
    static WaResult writeAmplification(Path parent, long driveBytes, double fill, Skew skew) throws Exception {
        try (BenchEngine bench = BenchEngine.open(parent, driveBytes)) {
            Engine engine = bench.engine();
            long capacity = engine.capacityBytes();
            long volumeBytes = (long) (capacity * fill) / WA_IO_SIZE * WA_IO_SIZE;
            VolumeDevice volume = new VolumeDevice(bench.createVolume(SelfTarget.BLOCK_SIZE, volumeBytes, false), false);
            ByteBuf data = DataKind.RANDOM.pool(1);
            try {
                DeviceLoad.Result fillLoad = DeviceLoad.write(volume, data, FILL_IO_SIZE, FILL_DEPTH, Skew.SEQUENTIAL,
                        volumeBytes, volumeBytes);
                EngineCounters c = engine.counters();
                long host = c.hostBytesWritten();
                long drive = c.driveBytesWritten();
                long relocated = c.relocatedBytes();
                long reclaimed = c.segmentsReclaimed();
                long throttled = c.throttledEpisodes();
                long capacityErrors = c.capacityErrors();
                DeviceLoad.Result overwrite = DeviceLoad.write(volume, data, WA_IO_SIZE, WA_DEPTH, skew, volumeBytes,
                        (long) (WA_PASSES * volumeBytes), WA_MAX_SECONDS, WA_MAX_ERRORS);
                var stats = engine.stats();
                return new WaResult(fill, skew, driveBytes, capacity, volumeBytes, fillLoad, overwrite,
                        c.hostBytesWritten() - host, c.driveBytesWritten() - drive, c.relocatedBytes() - relocated,
                        c.segmentsReclaimed() - reclaimed, c.throttledEpisodes() - throttled,
                        c.capacityErrors() - capacityErrors, stats.freeSegments(), stats.segments());
            } finally {
                data.release();
            }
        }
    }

    /** One compression run: a fresh volume written through once with one kind of data. */
    record CompressionResult(DataKind kind, int blockSize, boolean compressed, DeviceLoad.Result load,
                             MapStore.Usage usage) {
        double ratio() {
            return usage.storedBytes() == 0 ? 0 : (double) usage.mappedBytes() / usage.storedBytes();
        }

        String summary() {
            return String.format(Locale.ROOT, "engine compression %-3s %-9s %4d-byte blocks: ratio %.2f (%d MiB mapped, "
                            + "%d MiB stored), %.1f MB/s%s", compressed ? "on" : "off", kind.label(), blockSize,
                    ratio(), usage.mappedBytes() >> 20, usage.storedBytes() >> 20, load.mbPerSecond(),
                    load.errors() == 0 ? "" : "  ERRORS " + load.errorText());
        }
    }

    /** Every kind of data, compression on and off, at each block size: sequential writes over a fresh volume. */
    static List<CompressionResult> compression(Path parent) throws Exception {
        List<CompressionResult> results = new ArrayList<>();
        try (BenchEngine bench = BenchEngine.open(parent, COMPRESSION_DRIVE_BYTES)) {
            for (int blockSize : COMPRESSION_BLOCK_SIZES) {
                for (DataKind kind : DataKind.values()) {
                    ByteBuf data = kind.pool(kind.ordinal() + 1);
                    try {
                        for (boolean compressed : new boolean[] {false, true}) {
                            CompressionResult r = compressionRun(bench, data, kind, blockSize, compressed);
                            System.out.println(r.summary());
                            results.add(r);
                        }
                    } finally {
                        data.release();
                    }
                }
            }
        }
        return results;
    }

    private static CompressionResult compressionRun(BenchEngine bench, ByteBuf data, DataKind kind, int blockSize,
                                                    boolean compressed) throws Exception {
        EngineVolume volume = bench.createVolume(blockSize, COMPRESSION_VOLUME_BYTES, compressed);
        try {
            DeviceLoad.Result load = DeviceLoad.write(new VolumeDevice(volume, false), data,
                    COMPRESSION_IO_SIZE, COMPRESSION_DEPTH, Skew.SEQUENTIAL,
                    COMPRESSION_VOLUME_BYTES, COMPRESSION_VOLUME_BYTES);
            return new CompressionResult(kind, blockSize, compressed, load, bench.engine().usage(volume.id()));
        } finally {
            bench.engine().delete(volume.id());
        }
    }

    /**
     * {@code basalt bench --write-amplification [--fill PERCENT] [--drive-size SIZE] [--engine-dir DIR]}
     * or {@code basalt bench --compression [--engine-dir DIR]}.
     */
    static int run(String[] args) {
        boolean wa = false;
        boolean compression = false;
        List<Double> fills = new ArrayList<>();
        long driveBytes = WA_DRIVE_BYTES;
        Path dir = null;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--write-amplification" -> wa = true;
                    case "--compression" -> compression = true;
                    case "--fill" -> fills.add(BenchOptions.integer(BenchOptions.value(args, ++i, "--fill"), "--fill") / 100.0);
                    case "--drive-size" -> driveBytes = BenchOptions.size(BenchOptions.value(args, ++i, "--drive-size"),
                            "--drive-size");
                    case "--engine-dir" -> dir = Path.of(BenchOptions.value(args, ++i, "--engine-dir"));
                    default -> throw new IllegalArgumentException("unknown option " + args[i]
                            + " (with --write-amplification or --compression)");
                }
            }
            for (double f : fills) {
                if (f <= 0 || f >= 1) {
                    throw new IllegalArgumentException("--fill must be a percentage from 1 to 99");
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("basalt bench: " + e.getMessage());
            BenchCommand.usage(System.err);
            return BenchCommand.EXIT_USAGE;
        }
        boolean failed = false;
        try {
            if (wa) {
                for (double f : fills.isEmpty() ? Arrays.stream(WA_FILLS).boxed().toList() : fills) {
                    for (Skew skew : WA_SKEWS) {
                        WaResult r = writeAmplification(dir, driveBytes, f, skew);
                        System.out.println(r.summary());
                        failed |= r.failed();
                    }
                }
            }
            if (compression) {
                for (CompressionResult r : compression(dir)) {
                    failed |= r.load().errors() > 0;
                }
            }
        } catch (Exception e) {
            System.err.println("basalt bench: " + BenchCommand.describe(e));
            return BenchCommand.EXIT_FAILED;
        }
        return failed ? BenchCommand.EXIT_FAILED : 0;
    }
}
