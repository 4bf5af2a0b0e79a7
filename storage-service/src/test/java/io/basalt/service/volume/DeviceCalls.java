package io.basalt.service.volume;

import io.basalt.nvmetcp.nvmet.BlockDevice;
import io.basalt.nvmetcp.nvmet.IoCallback;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Device operations run synchronously for tests, remembering the thread that completed each. */
final class DeviceCalls {
    private DeviceCalls() {
    }

    record Completion(int status, Thread thread) {
    }

    static Completion call(Consumer<IoCallback> operation) throws Exception {
        CompletableFuture<Completion> done = new CompletableFuture<>();
        operation.accept(status -> {
            if (!done.complete(new Completion(status, Thread.currentThread()))) {
                throw new AssertionError("completed twice");
            }
        });
        return done.get(10, TimeUnit.SECONDS);
    }

    static int read(BlockDevice device, long lba, int blocks, ByteBuf dst) throws Exception {
        return call(cb -> device.read(lba, blocks, dst, cb)).status();
    }

    static int write(BlockDevice device, long lba, int blocks, ByteBuf src, boolean fua) throws Exception {
        return call(cb -> device.write(lba, blocks, src, fua, cb)).status();
    }

    static int flush(BlockDevice device) throws Exception {
        return call(device::flush).status();
    }

    static int writeZeroes(BlockDevice device, long lba, int blocks) throws Exception {
        return call(cb -> device.writeZeroes(lba, blocks, cb)).status();
    }

    static int deallocate(BlockDevice device, long lba, int blocks) throws Exception {
        return call(cb -> device.deallocate(lba, blocks, cb)).status();
    }

    static byte[] pattern(int length, int seed) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            data[i] = (byte) (i * 31 + seed);
        }
        return data;
    }

    static byte[] bytes(ByteBuf buf) {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), bytes);
        return bytes;
    }
}
