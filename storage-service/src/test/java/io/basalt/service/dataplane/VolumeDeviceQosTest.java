package io.basalt.service.dataplane;

import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.IoCallback;
import io.basalt.service.engine.Engine;
import io.basalt.service.engine.EngineConfig;
import io.basalt.service.engine.EngineVolume;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The data-plane layer over a real engine volume: QoS (commands over budget are delayed, never lost)
 * and the completion adapter kept with the target's command slot.
 */
class VolumeDeviceQosTest {
    @TempDir
    Path dir;
    private Engine engine;
    private EngineVolume store;
    private final ScheduledExecutorService delayed = Executors.newSingleThreadScheduledExecutor();

    @BeforeEach
    void open() throws Exception {
        engine = Engine.open(new EngineConfig(List.of(dir.resolve("drive0.img")), 256L << 20, dir.resolve("engine"),
                UUID.randomUUID(), 2 << 20, false, 64L << 20, 30_000, 2_000, 10.0));
        store = engine.volume(engine.createVolume(4096, 256, false)).orElseThrow();
    }

    @AfterEach
    void close() throws Exception {
        delayed.shutdownNow();
        engine.close();
    }

    /** Completes with the status and the thread that handed the command to the store's completion. */
    private static CompletableFuture<Integer> write(VolumeDevice device) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        ByteBuf data = Unpooled.wrappedBuffer(new byte[4096]);
        device.write(0, 1, data, false, done::complete);
        return done;
    }

    @Test
    void aLimitedVolumesCommandsOverBudgetWaitTheirSlotAndSucceed() throws Exception {
        VolumeDevice device = new VolumeDevice(store, false, delayed);
        device.limits(new QosLimits(0, 0, 10, 0, 0, 0, 0));
        long start = System.nanoTime();
        List<CompletableFuture<Integer>> writes = List.of(write(device), write(device), write(device));
        for (CompletableFuture<Integer> done : writes) {
            assertEquals(Status.SUCCESS, done.get(10, TimeUnit.SECONDS));
        }
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(elapsedMillis >= 190, "3 writes at 10 per second take 200 ms, not " + elapsedMillis);
        // The second and third waited at most 100 and 200 ms (less by the time the first one took).
        long throttled = device.throttledNanos();
        assertTrue(throttled > 0 && throttled <= 300_000_000L, "throttled " + throttled + " ns");
    }

    @Test
    void anUnlimitedVolumeNeverWaitsAndLimitsCanBeLifted() throws Exception {
        VolumeDevice device = new VolumeDevice(store, false, delayed);
        assertSame(QosLimits.UNLIMITED, device.limits());
        for (int i = 0; i < 100; i++) {
            assertEquals(Status.SUCCESS, write(device).get(10, TimeUnit.SECONDS));
        }
        device.limits(new QosLimits(1, 0, 0, 0, 0, 0, 0));
        assertNotSame(QosLimits.UNLIMITED, device.limits());
        device.limits(QosLimits.UNLIMITED);
        for (int i = 0; i < 100; i++) {
            assertEquals(Status.SUCCESS, write(device).get(10, TimeUnit.SECONDS));
        }
        assertEquals(0, device.throttledNanos());
    }

    /** Without the RejectedExecutionException catch in VolumeDevice the write threw instead of completing. */
    @Test
    void aThrottledCommandAfterTheSchedulerStoppedFailsInsteadOfHanging() throws Exception {
        VolumeDevice device = new VolumeDevice(store, false, delayed);
        device.limits(new QosLimits(1, 0, 0, 0, 0, 0, 0));
        assertEquals(Status.SUCCESS, write(device).get(10, TimeUnit.SECONDS));
        delayed.shutdownNow();
        assertEquals(Status.NAMESPACE_NOT_READY | Status.DNR, write(device).get(10, TimeUnit.SECONDS));
    }

    /**
     * A command slot's adapter from the store's completion to NVMe's is made by its first command and
     * reused by every later one, throttled or not: before, each command made a lambda (failed here with
     * no adapter kept).
     */
    @Test
    void aCommandSlotsCompletionAdapterIsMadeOnceAndReused() throws Exception {
        VolumeDevice device = new VolumeDevice(store, false, delayed);
        Slot slot = new Slot();
        assertEquals(Status.SUCCESS, slot.run(done -> device.write(0, 1, Unpooled.wrappedBuffer(new byte[4096]), false, done)));
        Object adapter = slot.adapter();
        assertNotNull(adapter, "the first command keeps its adapter with the slot");
        assertEquals(Status.SUCCESS, slot.run(done -> device.read(0, 1, Unpooled.buffer(4096), done)));
        device.limits(new QosLimits(0, 0, 1000, 0, 0, 0, 0));
        assertEquals(Status.SUCCESS, slot.run(done -> device.write(1, 1, Unpooled.wrappedBuffer(new byte[4096]), false, done)));
        assertEquals(Status.SUCCESS, slot.run(device::flush));
        assertSame(adapter, slot.adapter());
    }

    /** A callback reused for one command after another, which keeps its adapter as the target's slots do. */
    private static final class Slot implements IoCallback {
        private Object adapter;
        private volatile CompletableFuture<Integer> done;

        int run(Consumer<IoCallback> command) throws Exception {
            done = new CompletableFuture<>();
            command.accept(this);
            return done.get(10, TimeUnit.SECONDS);
        }

        @Override
        public void complete(int status) {
            done.complete(status);
        }

        @Override
        public Object adapter() {
            return adapter;
        }

        @Override
        public void adapter(Object adapter) {
            this.adapter = adapter;
        }
    }
}
