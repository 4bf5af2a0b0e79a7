package io.basalt.service.engine.log;

import io.basalt.service.engine.IoCompletion;
import io.basalt.service.engine.map.VolumeMap;
import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Work for the log writer, queued by host I/O, control requests, garbage collection and checkpoints. */
public sealed interface LogOp {

    /**
     * Host data; {@code data} stays valid until {@code completion} runs. Not a record: a completion that
     * serves command after command keeps one ({@link IoCompletion#keptWrite}) and the engine refills it
     * for each write, so that a host write allocates no operation. The writer is done with it once it
     * has called its completion, and only then may it be refilled.
     */
    final class HostWrite implements LogOp {
        private VolumeMap map;
        private long lba;
        private int blocks;
        private ByteBuf data;
        private boolean fua;
        private IoCompletion completion;
        private long queuedNanos;

        public HostWrite(VolumeMap map, long lba, int blocks, ByteBuf data, boolean fua, IoCompletion completion,
                         long queuedNanos) {
            refill(map, lba, blocks, data, fua, completion, queuedNanos);
        }

        /** Makes this the operation of another write, after the previous one's completion ran. */
        public HostWrite refill(VolumeMap map, long lba, int blocks, ByteBuf data, boolean fua,
                                IoCompletion completion, long queuedNanos) {
            this.map = map;
            this.lba = lba;
            this.blocks = blocks;
            this.data = data;
            this.fua = fua;
            this.completion = completion;
            this.queuedNanos = queuedNanos;
            return this;
        }

        public VolumeMap map() {
            return map;
        }

        public long lba() {
            return lba;
        }

        public int blocks() {
            return blocks;
        }

        public ByteBuf data() {
            return data;
        }

        public boolean fua() {
            return fua;
        }

        public IoCompletion completion() {
            return completion;
        }

        public long queuedNanos() {
            return queuedNanos;
        }
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
