package io.basalt.service.metrics;

import io.basalt.nvmetcp.nvmet.IoObserver;
import io.basalt.service.volume.VolumeObservers;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/** Gives every volume its own I/O meters, compression gauge and QoS throttled-time counter, and drops them when the volume is deleted. */
public final class VolumeIoMetrics implements VolumeObservers {
    private final MeterRegistry registry;
    private final ToDoubleFunction<String> compressionRatio;
    private final ToDoubleFunction<String> throttledSeconds;
    private final Map<String, VolumeIoMeters> byVolume = new ConcurrentHashMap<>();

    /**
     * @param compressionRatio a volume's logical-to-stored ratio by volume ID, computed when scraped
     * @param throttledSeconds seconds a volume's commands have waited for their QoS slot, by volume ID,
     *                         read when scraped
     */
    public VolumeIoMetrics(MeterRegistry registry, ToDoubleFunction<String> compressionRatio,
                           ToDoubleFunction<String> throttledSeconds) {
        this.registry = registry;
        this.compressionRatio = compressionRatio;
        this.throttledSeconds = throttledSeconds;
    }

    @Override
    public IoObserver observerFor(String volumeId, String volumeName) {
        return byVolume.computeIfAbsent(volumeId,
                id -> new VolumeIoMeters(registry, id, volumeName, () -> compressionRatio.applyAsDouble(id),
                        () -> throttledSeconds.applyAsDouble(id)));
    }

    @Override
    public void volumeDeleted(String volumeId) {
        VolumeIoMeters meters = byVolume.remove(volumeId);
        if (meters != null) {
            meters.remove(registry);
        }
    }
}
