package io.basalt.service.volume;

import io.basalt.bridge.api.NodeStats;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Qos;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.SpaceUsage;
import io.basalt.bridge.api.Volume;
import io.basalt.service.dataplane.QosLimits;
import io.basalt.service.engine.Engine;
import io.basalt.service.engine.EngineStats;
import io.basalt.service.engine.map.MapStore;

import java.util.List;
import java.util.function.Supplier;

/** What the API shows of volumes, snapshots and the node: records and engine figures turned into API types. */
final class VolumeViews {
    private final Engine engine;
    private final String subsystemNqn;
    private final Supplier<List<Portal>> portals;

    VolumeViews(Engine engine, String subsystemNqn, Supplier<List<Portal>> portals) {
        this.engine = engine;
        this.subsystemNqn = subsystemNqn;
        this.portals = portals;
    }

    Volume of(VolumeRecord record) {
        boolean alone = record.replicas() > 1; // in a subsystem of its own on every node holding a copy
        return new Volume(record.id(), record.name(), record.project(), record.sizeBytes(), record.compression(),
                record.replicas(), alone ? NamespaceExporter.volumeNqn(record.id()) : subsystemNqn,
                alone ? NamespaceExporter.VOLUME_NSID : record.nsid(), record.uuid(), record.nguid(), record.hosts(),
                portals.get(), record.sourceSnapshotId(), record.sourceVolumeId(), space(record.mapId()),
                record.requireAuthentication(), of(record.qos()));
    }

    static Qos of(QosLimits limits) {
        return new Qos(limits.totalIops(), limits.readIops(), limits.writeIops(), limits.totalBytesPerSec(),
                limits.readBytesPerSec(), limits.writeBytesPerSec(), limits.burstSeconds());
    }

    static QosLimits limitsOf(Qos qos) {
        return new QosLimits(qos.totalIops(), qos.readIops(), qos.writeIops(), qos.totalBytesPerSec(),
                qos.readBytesPerSec(), qos.writeBytesPerSec(), qos.burstSeconds());
    }

    Snapshot of(SnapshotRecord record) {
        return new Snapshot(record.id(), record.name(), record.project(), record.sourceVolumeId(), record.sizeBytes(),
                record.createdAt(), space(record.mapId()));
    }

    /** The node's figures, from counters only: cheap enough for every scrape and poll. */
    NodeStats node(long provisionedBytes, int volumes, int snapshots) {
        EngineStats stats = engine.stats();
        return new NodeStats(stats.capacityBytes(), stats.capacityBytes() - stats.liveBytes(), stats.liveBytes(),
                provisionedBytes, engine.maxOversubscription(), stats.compressionRatio(), stats.writeAmplification(),
                volumes, snapshots, engine.failure().map(Throwable::toString).orElse(null), engine.rawBytes(),
                engine.erasureCode().toString(), NodeDrives.failed(engine), NodeDrives.rebuild(engine));
    }

    /** Logical bytes mapped per byte stored of one volume, O(1) (1.0 when empty or gone). */
    double compressionRatio(VolumeRecord record) {
        try {
            MapStore.Usage totals = engine.totals(record.mapId());
            return totals.storedBytes() == 0 ? 1.0 : (double) totals.mappedBytes() / totals.storedBytes();
        } catch (IllegalArgumentException deletedMeanwhile) {
            return 1.0;
        }
    }

    private SpaceUsage space(int mapId) {
        try {
            MapStore.Usage usage = engine.usage(mapId);
            return new SpaceUsage(usage.mappedBytes(), usage.storedBytes(), usage.exclusiveBytes(),
                    usage.storedBytes() - usage.exclusiveBytes());
        } catch (IllegalArgumentException deletedMeanwhile) {
            return SpaceUsage.EMPTY;
        }
    }
}
