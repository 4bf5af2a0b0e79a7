package io.basalt.service.engine.log;

import io.basalt.service.engine.IoCompletion;
import io.basalt.service.engine.map.VolumeMap;
import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Work for the log writer, queued by host I/O, control requests, garbage collection and checkpoints. */
public sealed interface LogOp {

    /** Host data; {@code data} stays valid until {@code completion} runs. */
    record HostWrite(VolumeMap map, long lba, int blocks, ByteBuf data, boolean fua, IoCompletion completion,
                     long queuedNanos) implements LogOp {
    }

    record HostUnmap(VolumeMap map, long lba, long blocks, IoCompletion completion) implements LogOp {
    }

    /** Completes once every write completed before it was queued is on stable storage. */
    record HostFlush(IoCompletion completion) implements LogOp {
    }

    /** Live blocks GC read from a victim segment, each with its stored bytes; completes when applied. */
    record Relocation(List<LogEntry.Relocate> blocks, List<ByteBuffer> payloads, CompletableFuture<Void> done)
            implements LogOp {
    }

    /**
     * Map changes that are durable when {@code done} completes, all in one batch: recovery replays all of
     * them or none, and no host write falls between them. Skipped if cancelled before it started.
     */
    record Control(List<LogEntry> entries, ControlTicket ticket, CompletableFuture<Void> done) implements LogOp {
        public Control {
            entries = List.copyOf(entries);
        }

        public Control(LogEntry entry, ControlTicket ticket, CompletableFuture<Void> done) {
            this(List.of(entry), ticket, done);
        }
    }

    /**
     * Runs on the writer thread between batches, with nothing half-written; if the writer closes first,
     * {@code refused} hears why instead, so that whoever waits for the task learns that it never ran.
     */
    record Task(Runnable action, java.util.function.Consumer<Throwable> refused) implements LogOp {
        /** A task nobody waits for. */
        public Task(Runnable action) {
            this(action, cause -> {
            });
        }
    }
}
