package io.basalt.service.metrics;

import io.basalt.nvmetcp.nvmet.NvmeTarget;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/** Gauges of the node as a whole, read when metrics are scraped. */
public final class NodeGauges {
    private NodeGauges() {
    }

    /**
     * @param connections TCP connections to the NVMe target
     * @param queuePairs  admin and I/O queue pairs of all controllers
     * @param controllers controllers hosts have created
     * @param volumes     volumes of the node
     * @param dataBytes   data bytes the target's commands hold (writes asked for, reads not yet sent)
     */
    public static void register(MeterRegistry registry, IntSupplier connections, IntSupplier queuePairs,
                                IntSupplier controllers, IntSupplier volumes, LongSupplier dataBytes) {
        gauge(registry, "basalt.nvme.connections", "Open NVMe/TCP connections", connections);
        gauge(registry, "basalt.nvme.queue.pairs", "NVMe queue pairs, admin and I/O", queuePairs);
        gauge(registry, "basalt.nvme.controllers", "NVMe controllers created by hosts", controllers);
        gauge(registry, "basalt.volumes", "Volumes on this node", volumes);
        Gauge.builder("basalt.nvme.data.bytes.in.flight", dataBytes, LongSupplier::getAsLong)
                .description("Data bytes held by NVMe commands in flight, against nvme.node-data-bytes")
                .strongReference(true)
                .register(registry);
    }

    /**
     * In-band authentication of the target's hosts. Function counters hold their object weakly: the
     * target, which the node keeps, is the object here.
     */
    public static void registerAuthentication(MeterRegistry registry, NvmeTarget target) {
        FunctionCounter.builder("basalt.nvme.authentications", target, NvmeTarget::authenticationCount)
                .description("NVMe queues whose host authenticated (DH-HMAC-CHAP)")
                .register(registry);
        FunctionCounter.builder("basalt.nvme.authentication.failures", target, NvmeTarget::authenticationFailureCount)
                .description("NVMe in-band authentications failed, timed out or abandoned; each ended a controller")
                .register(registry);
    }

    /** Strong references: the gauge would otherwise read NaN once the supplier is garbage collected. */
    private static void gauge(MeterRegistry registry, String name, String description, IntSupplier value) {
        Gauge.builder(name, value, IntSupplier::getAsInt)
                .description(description)
                .strongReference(true)
                .register(registry);
    }
}
