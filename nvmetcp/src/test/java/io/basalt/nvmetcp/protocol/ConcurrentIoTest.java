package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.HostQueue;
import io.basalt.nvmetcp.host.IoCompletion;
import io.basalt.nvmetcp.host.NvmeTransportException;
import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many I/Os in flight at once: four I/O queues with 32 commands each, mixing in-capsule and R2T sized
 * writes, then reading every region back, for several rounds. Commands are submitted from the test
 * thread and from completions (on the host's event loops); every byte is verified.
 */
class ConcurrentIoTest {
    private static final int QUEUES = 4;
    private static final int DEPTH = 32;
    private static final int REGION_BLOCKS = 128;
    private static final int ROUNDS = 10;
    private LiveTarget live;
    private HostController controller;

    @BeforeEach
    void connect() {
        live = LiveTarget.start();
        controller = live.connect(LiveTarget.hostOptions().withIoQueues(QUEUES, DEPTH + 1));
    }

    @AfterEach
    void stop() {
        live.close();
    }

    /** One region of one queue: writes a pattern, then (from its completion) reads it back and checks it. */
    private static final class Region implements IoCompletion {
        final HostQueue queue;
        final long lba;
        final ByteBuf written = PooledByteBufAllocator.DEFAULT.directBuffer(REGION_BLOCKS * 512);
        final ByteBuf read = PooledByteBufAllocator.DEFAULT.directBuffer(REGION_BLOCKS * 512);
        final CountDownLatch done;
        final ConcurrentLinkedQueue<String> errors;
        int blocks;
        boolean reading;

        Region(HostQueue queue, long lba, CountDownLatch done, ConcurrentLinkedQueue<String> errors) {
            this.queue = queue;
            this.lba = lba;
            this.done = done;
            this.errors = errors;
        }

        void start(Random random) {
            blocks = random.nextBoolean() ? 8 : REGION_BLOCKS; // 4 KiB in the capsule, or 64 KiB through R2T
            byte[] pattern = new byte[blocks * 512];
            random.nextBytes(pattern);
            written.clear().writeBytes(pattern);
            read.clear();
            reading = false;
            queue.write(1, lba, blocks, written, false, this);
        }

        @Override
        public void complete(int status, long result) {
            if (status != Status.SUCCESS) {
                errors.add((reading ? "read" : "write") + " at " + lba + ": " + Status.describe(status));
                done.countDown();
            } else if (!reading) {
                reading = true;
                queue.read(1, lba, blocks, read, this); // submitted on the queue's own event loop
            } else {
                if (!read.equals(written)) {
                    errors.add("data read at " + lba + " on queue " + queue.qid() + " differs from what was written");
                }
                done.countDown();
            }
        }

        @Override
        public void failed(NvmeTransportException cause) {
            errors.add(cause.getMessage());
            done.countDown();
        }

        void release() {
            written.release();
            read.release();
        }
    }

    @Test
    void everyRegionReadsBackWhatWasWrittenUnderLoad() throws InterruptedException {
        assertEquals(QUEUES, controller.ioQueueCount());
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        List<Region> regions = new ArrayList<>();
        Random random = new Random(42);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                CountDownLatch done = new CountDownLatch(QUEUES * DEPTH);
                regions.forEach(Region::release);
                regions.clear();
                for (int q = 0; q < QUEUES; q++) {
                    for (int i = 0; i < DEPTH; i++) {
                        regions.add(new Region(controller.ioQueue(q), (long) (q * DEPTH + i) * REGION_BLOCKS, done, errors));
                    }
                }
                regions.forEach(r -> r.start(random));
                assertTrue(done.await(IoResult.TIMEOUT_SECONDS, TimeUnit.SECONDS),
                        "round " + round + ": " + done.getCount() + " regions unfinished");
                assertTrue(errors.isEmpty(), "round " + round + ": " + errors);
            }
        } finally {
            regions.forEach(Region::release);
        }
    }
}
