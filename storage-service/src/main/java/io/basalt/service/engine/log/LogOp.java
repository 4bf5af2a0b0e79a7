package io.basalt.service.engine.log;

import io.basalt.nvmetcp.nvmet.IoCallback;
import io.basalt.service.engine.map.VolumeMap;
import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Work for the log writer, queued by host I/O, control requests, garbage collection and checkpoints. */
public sealed interface LogOp {

    /** Host data; {@code data} stays valid until {@code callback} runs. */
    record HostWrite(VolumeMap map, long lba, int blocks, ByteBuf data, boolean fua, IoCallback callback,
                     long queuedNanos) implements LogOp {
    }

    record HostUnmap(VolumeMap map, long lba, long blocks, IoCallback callback) implements LogOp {
    }

    /** Completes once every write completed before it was queued is on stable storage. */
    record HostFlush(IoCallback callback) implements LogOp {
    }

    /** Live blocks GC read from a victim segment, each with its stored bytes; completes when applied. */
    record Relocation(List<LogEntry.Relocate> blocks, List<ByteBuffer> payloads, CompletableFuture<Void> done)
            implements LogOp {
    }

    /** A map change that is durable when {@code done} completes. */
    record Control(LogEntry entry, CompletableFuture<Void> done) implements LogOp {
    }

    /** Runs on the writer thread between batches, with nothing half-written. */
    record Task(Runnable action) implements LogOp {
    }
}
