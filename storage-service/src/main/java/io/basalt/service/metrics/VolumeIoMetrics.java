package io.basalt.service.metrics;

import io.basalt.nvmetcp.target.IoObserver;
import io.basalt.service.volume.VolumeObservers;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Gives every volume its own I/O meters and drops them when the volume is deleted. */
public final class VolumeIoMetrics implements VolumeObservers {
    private final MeterRegistry registry;
    private final Map<String, VolumeIoMeters> byVolume = new ConcurrentHashMap<>();

    public VolumeIoMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public IoObserver observerFor(String volumeId, String volumeName) {
        return byVolume.computeIfAbsent(volumeId, id -> new VolumeIoMeters(registry, id, volumeName));
    }

    @Override
    public void volumeDeleted(String volumeId) {
        VolumeIoMeters meters = byVolume.remove(volumeId);
        if (meters != null) {
            meters.remove(registry);
        }
    }
}
