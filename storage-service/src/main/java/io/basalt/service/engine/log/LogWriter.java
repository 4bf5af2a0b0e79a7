package io.basalt.service.engine.log;

import io.basalt.service.engine.EngineCounters;
import io.basalt.service.engine.IoResult;
import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.map.MapStore;
import io.basalt.service.engine.map.VolumeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.CRC32C;

/**
 * Appends to the log, one batch at a time, on its own thread. Callers queue operations; the writer
 * drains what is queued into one batch, writes the batch with one gathering write at the end of the
 * open segment, applies the batch's entries to the maps, syncs the drives once if any operation in the
 * batch needs it (group commit: every flush and FUA write of the batch shares that sync), and only
 * then completes the operations, outside every lock. Event loops never touch a drive.
 *
 * <p>When free segments run down to the reserve, host writes wait (the only throttling) while
 * relocations and control changes, which may use the reserve, go on; a host write that waits longer
 * than the throttle limit, or arrives when nothing is reclaimable, fails with {@link IoResult#NO_SPACE}.
 *
 * <p>Every sequence number it gives a batch is covered by a reservation written to the drives first
 * ({@link DriveSet#reserveSequences}), so recovery can always continue above any number in use.
 *
 * <p>Fail-stop: after any drive write or sync error the writer acknowledges nothing more — every
 * write, unmap, flush, map change and relocation fails with {@link IoResult#FAILED} — until the engine
 * is restarted and has recovered. Linux reports a writeback error to one fsync only and then drops the
 * pages; a later sync that succeeds proves nothing, so it is never retried and believed.
 */
public final class LogWriter implements Runnable {
    /** Payload of one batch; a segment holds several. */
    public static final int MAX_BATCH_PAYLOAD = 1 << 20;
    private static final int MAX_BATCH_ENTRIES = 64 * 1024;
    private static final int MAX_OPS_PER_BATCH = 256;
    private static final long SPIN_NANOS = 20_000;
    /** Sequence numbers reserved on the drives at a time: one reservation write per this many batches. */
    private static final long SEQUENCE_RESERVATION = 1 << 20;
    private static final Logger LOG = LoggerFactory.getLogger(LogWriter.class);

    /** Hooks into the rest of the engine. */
    public interface Listener {
        /** Free space fell to the level where garbage collection should run. */
        void spaceLow();

        /** Another {@code bytes} of log were written since the last call. */
        void logged(long bytes);
    }

    private final DriveSet drives;
    private final SegmentTable segments;
    private final MapStore maps;
    private final LogApplier applier;
    private final Lock lock;
    private final EngineCounters counters;
    private final Listener listener;
    private final boolean syncEveryWrite;
    private final int reserveSegments;
    /**
     * Free segments no batch may take: what the next base checkpoint needs ({@link #keepForCheckpoints}).
     * Without them a checkpoint finds no segment for its records, and nothing frees space any more:
     * garbage collection frees its victims only with a checkpoint, and a restart begins with one. Host
     * batches (writes, unmaps, map changes) leave one more, for garbage collection: it can then always
     * move a victim (less than a segment of live blocks) and take the checkpoint that frees it, where
     * a node left with only the checkpoints' share would never free a segment again.
     */
    private volatile int keptForCheckpoints;
    private final long throttleNanos;
    private final ConcurrentLinkedQueue<LogOp> queue = new ConcurrentLinkedQueue<>();
    private final SpinBeforePark spin = new SpinBeforePark();
    private final List<LogOp> drained = new ArrayList<>(MAX_OPS_PER_BATCH);
    /** Whether {@link #deferred} holds writes; chooses how long the idle writer parks. */
    private boolean hasDeferred;
    /** True while the writer is parked (or about to park): only then does a submitter need to unpark it. */
    private volatile boolean idle;
    private final ArrayDeque<LogOp.HostWrite> deferred = new ArrayDeque<>();
    private final BlockCodec codec = new BlockCodec();
    private final ByteBuffer header = ByteBuffer.allocateDirect(LogFormat.BATCH_HEADER).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer entries = ByteBuffer.allocateDirect(MAX_BATCH_ENTRIES).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer payload = ByteBuffer.allocateDirect(MAX_BATCH_PAYLOAD);
    /**
     * The buffers of one batch's gathering write (segment header, batch header, entries, payload,
     * padding), refilled for each batch: the drives are done with them when their write returns.
     */
    private final ByteBuffer[] parts = new ByteBuffer[5];
    /** Stands for the segment header in {@link #parts} when the batch does not open its segment. */
    private final ByteBuffer noSegmentHeader = ByteBuffer.allocate(0);
    private final CRC32C batchCrc = new CRC32C();
    /** Zeros after a batch up to the drive set's write alignment. */
    private final ByteBuffer padding;
    private final int alignment;
    private final List<LogEntry> batchEntries = new ArrayList<>();
    /**
     * The write entries batches have used so far, refilled batch after batch (see {@link LogEntry.Write}):
     * the first {@link #writeEntriesUsed} are in the batch being built. At most as many as one batch's
     * entry bytes hold, each with room for the largest write seen.
     */
    private final List<LogEntry.Write> writeEntries = new ArrayList<>();
    private int writeEntriesUsed;
    private final List<LogOp> batchOps = new ArrayList<>();
    private final boolean[] drivesDirty;
    private final Thread thread;
    private volatile boolean running = true;
    /** The first drive error; once set, nothing is acknowledged any more. */
    private volatile IOException failure;
    /**
     * Held across every drive sync and the failure check before it. A sync that fails drops the
     * unsynced writes of every thread, and Linux reports it to one caller only: a sync that succeeds
     * afterwards must not count, so each sync first checks, under this lock, that none failed before.
     */
    private final Object syncing = new Object();
    /** Sequence numbers up to this are reserved on the drives; the writer's only. */
    private long reservedSequence;
    /** Volatile: garbage collection reads it to date when a segment was emptied. */
    private volatile long sequence;
    /**
     * The open segment of each stream. Host writes and the blocks garbage collection relocates go to
     * different segments: relocated blocks survived a whole segment's lifetime and are likely to stay
     * (cold), while new writes include the hot blocks that will soon be overwritten again. Mixed, every
     * segment holds both and must be collected with its cold blocks; apart, host segments empty out by
     * themselves and cold segments stay full (write amplification under skewed overwrites roughly
     * halves, docs/benchmarks.md).
     */
    private final int[] openSegment = {-1, -1};
    private static final int HOST_STREAM = 0;
    private static final int GC_STREAM = 1;
    /** The stream the batch being built goes to. */
    private int batchStream = HOST_STREAM;
    private boolean batchNeedsSync;

    public LogWriter(DriveSet drives, SegmentTable segments, MapStore maps, Lock lock, EngineCounters counters,
                     Listener listener, long lastSequence, boolean syncEveryWrite, int reserveSegments,
                     long throttleMillis) {
        this.drives = drives;
        this.segments = segments;
        this.maps = maps;
        this.applier = new LogApplier(maps, segments);
        this.lock = lock;
        this.counters = counters;
        this.listener = listener;
        this.sequence = lastSequence;
        this.reservedSequence = lastSequence;
        this.syncEveryWrite = syncEveryWrite;
        this.reserveSegments = reserveSegments;
        this.throttleNanos = TimeUnit.MILLISECONDS.toNanos(throttleMillis);
        this.drivesDirty = new boolean[drives.drives().size()];
        this.alignment = drives.writeAlignment();
        this.padding = ByteBuffer.allocateDirect(alignment);
        this.thread = Thread.ofPlatform().name("basalt-log-writer").daemon(true).unstarted(this);
    }

    public void start() {
        thread.start();
    }

    /** Queues an operation; it completes on the writer thread. Never blocks. */
    public void submit(LogOp op) {
        if (!running) {
            fail(op, new IllegalStateException("the storage engine is closed"));
            return;
        }
        queue.add(op);
        if (idle) {
            LockSupport.unpark(thread);
        }
    }

    /**
     * Enters the failed state after a drive error (the first one is kept and logged): from now on
     * nothing is acknowledged. Any thread.
     */
    public synchronized void failStop(String what, IOException cause) {
        if (failure == null) {
            failure = cause;
            LOG.error("{} failed; the storage engine stops acknowledging writes and flushes until it is restarted "
                    + "and has recovered", what, cause);
        }
    }

    /** The drive error that stopped the engine; null while it works. */
    public IOException failure() {
        return failure;
    }

    /**
     * Leaves {@code free} segments on the free list for checkpoints, which take them directly, and one more
     * for garbage collection; any thread.
     */
    public void keepForCheckpoints(int free) {
        keptForCheckpoints = free;
    }

    public int keptForCheckpoints() {
        return keptForCheckpoints;
    }

    /** Sequence number of the last batch written. Writer thread (or after {@link #stop}). */
    public long sequence() {
        return sequence;
    }

    /** Test hook, before {@link #start}: host writes continue in {@code segment}, left open by recovery. */
    void initialSegment(int segment) {
        openSegment[HOST_STREAM] = segment;
    }

    /** Stops after finishing what is queued; waits at most {@code millis}. */
    public void stop(long millis) throws InterruptedException {
        queue.add(new LogOp.Task(() -> running = false));
        LockSupport.unpark(thread);
        thread.join(millis);
    }

    @Override
    public void run() {
        while (running) {
            if (queue.isEmpty()) {
                awaitWork();
            }
            drainAndWrite();
        }
        List<LogOp> left = new ArrayList<>(deferred);
        deferred.clear();
        hasDeferred = false;
        for (LogOp op = queue.poll(); op != null; op = queue.poll()) {
            left.add(op);
        }
        left.forEach(op -> fail(op, new IllegalStateException("the storage engine is closed")));
    }

    /**
     * Spins briefly before parking while that pays ({@link SpinBeforePark}): at queue depths above one
     * the next write usually arrives within microseconds, and a park/unpark pair costs more than that
     * on both sides.
     */
    private void awaitWork() {
        if (spin.shouldSpin()) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (queue.isEmpty() && System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            }
            boolean foundWork = !queue.isEmpty();
            spin.spun(foundWork);
            if (foundWork) {
                return;
            }
        }
        idle = true;
        if (queue.isEmpty()) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(hasDeferred ? 10 : 200));
        }
        idle = false;
    }

    /** Drains queued operations into one batch and writes it. */
    private void drainAndWrite() {
        for (LogOp op = queue.poll(); op != null; op = drained.size() < MAX_OPS_PER_BATCH ? queue.poll() : null) {
            drained.add(op);
        }
        int processed = 0;
        try {
            retryDeferred();
            for (LogOp op : drained) {
                process(op);
                processed++;
            }
            writeBatch();
        } catch (RuntimeException | Error e) {
            LOG.error("log writer failed; failing the operations of the batch", e);
            // Fail each operation once: those already completed by an earlier batch of this round are
            // done, those in the failed batch are failed by failBatch, and only the rest from here.
            List<LogOp> rest = new ArrayList<>();
            for (int i = processed; i < drained.size(); i++) {
                LogOp op = drained.get(i);
                if (batchOps.stream().noneMatch(queued -> queued == op)) {
                    rest.add(op);
                }
            }
            failBatch(e);
            rest.forEach(op -> fail(op, e));
        } finally {
            drained.clear();
            hasDeferred = !deferred.isEmpty();
        }
    }

    private void process(LogOp op) {
        if (failure != null && !(op instanceof LogOp.Task)) {
            fail(op, failure);
            return;
        }
        switch (op) {
            case LogOp.HostWrite write -> {
                if (!deferred.isEmpty() || !hostMayWrite()) {
                    defer(write);
                } else {
                    addWrite(write);
                }
            }
            case LogOp.HostUnmap unmap -> {
                useStream(HOST_STREAM);
                if (unmap.map().deleted()) {
                    unmap.completion().done(IoResult.GONE);
                    return;
                }
                if (unmap.map().readOnly()) {
                    unmap.completion().done(IoResult.READ_ONLY);
                    return;
                }
                add(new LogEntry.Unmap(unmap.map().id(), unmap.lba(), unmap.blocks()), null, op);
            }
            case LogOp.HostFlush flush -> {
                batchNeedsSync = true;
                batchOps.add(op);
            }
            case LogOp.Relocation relocation -> {
                useStream(GC_STREAM);
                for (int i = 0; i < relocation.blocks().size(); i++) {
                    add(relocation.blocks().get(i), relocation.payloads().get(i), null);
                }
                batchOps.add(op);
            }
            case LogOp.Control control -> {
                if (!control.ticket().start()) {
                    return;
                }
                // Alone in its batch and checked against the maps as they are: an entry that cannot be
                // applied must never reach the log, or every later recovery would fail replaying it.
                // Its entries share that one batch (never cut by makeRoom), so they are one cut of the
                // log: every write completed before is in all of them, none queued after in any.
                writeBatch();
                batchStream = HOST_STREAM;
                String invalid = invalid(control.entries());
                if (invalid != null) {
                    control.done().completeExceptionally(new IllegalArgumentException(invalid));
                    return;
                }
                for (LogEntry entry : control.entries()) {
                    LogFormat.encode(entry, entries);
                    batchEntries.add(entry);
                }
                batchOps.add(op);
                batchNeedsSync = true;
                writeBatch();
            }
            case LogOp.Task task -> {
                writeBatch();
                task.action().run();
            }
        }
    }

    /** Writes out the batch built so far if it belongs to another stream; later entries go to {@code stream}. */
    private void useStream(int stream) {
        if (stream != batchStream && !batchEntries.isEmpty()) {
            writeBatch();
        }
        batchStream = stream;
    }

    /**
     * Why map changes cannot be applied to the maps as they are now (each is checked against the maps
     * before any of them, so none may depend on another); null if they can. More than one batch's entry
     * buffer holds are refused too.
     */
    private String invalid(List<LogEntry> changes) {
        int bytes = 0;
        for (LogEntry entry : changes) {
            bytes += LogFormat.encodedLength(entry);
        }
        if (bytes > MAX_BATCH_ENTRIES) {
            return changes.size() + " map changes do not fit one log batch";
        }
        Set<Integer> created = new HashSet<>();
        for (LogEntry entry : changes) {
            String invalid = invalid(entry);
            if (invalid == null && entry instanceof LogEntry.Clone c && !created.add(c.volume())) {
                invalid = "map " + c.volume() + " is created twice";
            }
            if (invalid != null) {
                return invalid;
            }
        }
        return null;
    }

    /** Why a map change cannot be applied to the maps as they are now; null if it can. */
    private String invalid(LogEntry entry) {
        lock.lock();
        try {
            return switch (entry) {
                case LogEntry.Create c -> maps.get(c.volume()) != null ? "map " + c.volume() + " exists" : null;
                case LogEntry.Clone c -> maps.get(c.volume()) != null ? "map " + c.volume() + " exists"
                        : maps.get(c.source()) == null ? "no map " + c.source() : null;
                case LogEntry.Resize r -> maps.get(r.volume()) == null ? "no map " + r.volume() : null;
                case LogEntry.Compression c -> maps.get(c.volume()) == null ? "no map " + c.volume() : null;
                case LogEntry.Delete d -> maps.get(d.volume()) == null ? "no map " + d.volume() : null;
                case LogEntry.Revert r -> maps.get(r.volume()) == null ? "no map " + r.volume()
                        : maps.get(r.snapshot()) == null ? "no map " + r.snapshot() : null;
                default -> null;
            };
        } finally {
            lock.unlock();
        }
    }

    private void addWrite(LogOp.HostWrite write) {
        VolumeMap map = write.map();
        if (map.deleted() || map.readOnly()) {
            write.completion().done(map.deleted() ? IoResult.GONE : IoResult.READ_ONLY);
            return;
        }
        useStream(HOST_STREAM);
        int blockSize = map.blockSize();
        int bytes = write.blocks() * blockSize;
        makeRoom(LogFormat.writeEntryLength(write.blocks()), bytes);
        LogEntry.Write entry = nextWriteEntry();
        entry.reset(map.id(), write.lba(), write.blocks());
        int from = write.data().readerIndex();
        for (int i = 0; i < write.blocks(); i++) {
            int start = payload.position();
            int length = codec.encode(write.data(), from + i * blockSize, blockSize, map.compressed(), payload);
            entry.block(i, length, codec.crc(write.lba() + i, payload, start, length));
        }
        LogFormat.encode(entry, entries);
        batchEntries.add(entry);
        batchOps.add(write);
        counters.hostBytesWritten(bytes);
        if (write.fua() || syncEveryWrite) {
            batchNeedsSync = true;
        }
    }

    /** A write entry of this writer's for the batch being built: reused from earlier batches when there is one. */
    private LogEntry.Write nextWriteEntry() {
        if (writeEntriesUsed == writeEntries.size()) {
            writeEntries.add(new LogEntry.Write());
        }
        return writeEntries.get(writeEntriesUsed++);
    }

    /** Adds an entry (with its payload bytes, if any) to the batch, writing out the batch first if it is full. */
    private void add(LogEntry entry, ByteBuffer entryPayload, LogOp op) {
        int length = entryPayload == null ? 0 : entryPayload.remaining();
        makeRoom(LogFormat.encodedLength(entry), length);
        if (entryPayload != null) {
            payload.put(entryPayload.duplicate());
        }
        LogFormat.encode(entry, entries);
        batchEntries.add(entry);
        if (op != null) {
            batchOps.add(op);
        }
    }

    /**
     * Writes out the batch built so far if an entry of these sizes would not fit in its buffers, or
     * would make it too long for the segment it will be written to. Cutting batches at the segment's
     * end fills segments: a batch that does not fit in what is left of the open segment goes to a fresh
     * one, and with batches of up to 1 MiB (relocations, large writes) in 2-4 MiB segments that wasted
     * up to a third of every segment, which garbage collection then had to move again and again.
     */
    private void makeRoom(int entryLength, int payloadLength) {
        if (batchEntries.isEmpty()) {
            return;
        }
        if (payload.remaining() < payloadLength || entries.remaining() < entryLength) {
            writeBatch();
            return;
        }
        int current = LogFormat.BATCH_HEADER + entries.position() + payload.position();
        int open = openSegment[batchStream];
        int at = open >= 0 && fits(open, current) ? (int) segments.written(open) : LogFormat.SEGMENT_HEADER;
        if (at + LogFormat.batchLength(at, current + entryLength + payloadLength, alignment) > segments.segmentSize()) {
            writeBatch();
        }
    }

    /** Writes, applies, syncs if needed and completes the batch built so far. */
    private void writeBatch() {
        if (failure != null) {
            completeBatch(IoResult.FAILED, failure);
            return;
        }
        if (batchEntries.isEmpty()) {
            try {
                if (batchNeedsSync) {
                    syncDirty();
                }
                completeBatch(IoResult.OK, null);
            } catch (IOException e) {
                failStop("syncing the drives", e);
                completeBatch(IoResult.FAILED, e);
            }
            return;
        }
        int entryBytes = entries.position();
        int payloadBytes = payload.position();
        int raw = LogFormat.BATCH_HEADER + entryBytes + payloadBytes;
        try {
            int segment = segmentFor(raw);
            // The sequence is taken only once the batch is on the drive: a failed write must not leave
            // a gap, since recovery stops at the first gap and would drop every later batch.
            long batchSequence = sequence + 1;
            if (batchSequence > reservedSequence) {
                reserveSequences(batchSequence + SEQUENCE_RESERVATION);
            }
            int offset = (int) segments.written(segment);
            int length = LogFormat.batchLength(offset, raw, alignment);
            boolean first = offset == LogFormat.SEGMENT_HEADER;
            LogFormat.sealBatch(header, entries, entryBytes, payloadBytes, batchEntries.size(), batchSequence,
                    batchCrc);
            parts[0] = first ? LogFormat.segmentHeader(segment, batchSequence) : noSegmentHeader;
            parts[1] = header.clear();
            parts[2] = entries.flip();
            parts[3] = payload.flip();
            parts[4] = padding.clear().limit(length - LogFormat.BATCH_HEADER - entryBytes - payloadBytes);
            drives.write(segment, first ? 0 : offset, parts);
            sequence = batchSequence;
            drives.markWritten(segment, drivesDirty);
            counters.driveBytesWritten(length + (first ? LogFormat.SEGMENT_HEADER : 0));
            lock.lock();
            try {
                applier.apply(segment, offset, length, batchSequence, batchEntries);
            } finally {
                lock.unlock();
            }
            listener.logged(length);
            if (batchNeedsSync) {
                syncDirty();
            }
            completeBatch(IoResult.OK, null);
        } catch (CapacityException e) {
            completeBatch(IoResult.NO_SPACE, e);
        } catch (IOException e) {
            failStop("writing a log batch", e);
            completeBatch(IoResult.FAILED, e);
        }
    }

    /**
     * The batch's stream's open segment if the batch fits, else a fresh one. The open segment is sealed
     * only once a free one is known to exist: sealed for nothing, its rest would be lost to every
     * smaller batch, such as the map change deleting a volume on a full node.
     */
    private int segmentFor(int raw) throws CapacityException {
        int open = openSegment[batchStream];
        if (open >= 0 && fits(open, raw)) {
            return open;
        }
        int kept = batchStream == GC_STREAM ? keptForCheckpoints : keptForCheckpoints + 1;
        if (segments.freeCount() <= kept) {
            listener.spaceLow();
            throw new CapacityException("no free segment left on the node's drives (" + segments.freeCount()
                    + " kept for checkpoints and garbage collection)");
        }
        // The free list changes on this thread only (checkpoints free segments in a writer task).
        int next;
        lock.lock();
        try {
            if (open >= 0) {
                segments.seal(open);
            }
            next = segments.open(sequence + 1);
        } finally {
            lock.unlock();
        }
        openSegment[batchStream] = next;
        if (segments.freeCount() <= reserveSegments * 2) {
            listener.spaceLow();
        }
        return next;
    }

    /** Whether a batch of {@code raw} bytes (and its padding) fits in what is left of open segment {@code open}. */
    private boolean fits(int open, int raw) {
        int offset = (int) segments.written(open);
        return offset + LogFormat.batchLength(offset, raw, alignment) <= segments.segmentSize();
    }

    /** Host writes may take a new segment only while more than the reserve (and the checkpoints' share) is free. */
    private boolean hostMayWrite() {
        int open = openSegment[HOST_STREAM];
        return segments.freeCount() > Math.max(reserveSegments, keptForCheckpoints + 1)
                || (open >= 0 && segments.written(open) + 2L * MAX_BATCH_PAYLOAD <= segments.segmentSize());
    }

    private void defer(LogOp.HostWrite write) {
        if (deferred.isEmpty()) {
            counters.throttled();
            listener.spaceLow();
        }
        deferred.add(write);
    }

    private void retryDeferred() {
        while (!deferred.isEmpty()) {
            LogOp.HostWrite oldest = deferred.peek();
            if (hostMayWrite()) {
                deferred.poll();
                addWrite(oldest);
            } else if (System.nanoTime() - oldest.queuedNanos() > throttleNanos
                    || (segments.reclaimableBytes() < (long) segments.segmentSize() && !sealGcSegment())) {
                deferred.poll();
                counters.capacityExceeded();
                oldest.completion().done(IoResult.NO_SPACE);
            } else {
                return;
            }
        }
    }

    /**
     * Seals the relocation stream's open segment, if it has one, so that garbage collection can reclaim
     * the blocks in it that died since they were relocated: on a nearly full node that may be the only
     * garbage left. Returns whether it did (host writes then wait for the collector rather than fail).
     */
    private boolean sealGcSegment() {
        int open = openSegment[GC_STREAM];
        if (open < 0 || batchStream == GC_STREAM && !batchEntries.isEmpty()) {
            return false;
        }
        lock.lock();
        try {
            segments.seal(open);
        } finally {
            lock.unlock();
        }
        openSegment[GC_STREAM] = -1;
        listener.spaceLow();
        return true;
    }

    private void syncDirty() throws IOException {
        synchronized (syncing) {
            workingOrThrow();
            try {
                for (int d = 0; d < drivesDirty.length; d++) {
                    if (drivesDirty[d]) {
                        drives.sync(d);
                        drivesDirty[d] = false;
                    }
                }
            } catch (IOException e) {
                failStop("syncing the drives", e);
                throw e;
            }
        }
        counters.synced();
    }

    /** Syncs every drive, for a checkpoint; any thread. Fails, and fail-stops, like the writer's own syncs. */
    public void syncAll() throws IOException {
        synchronized (syncing) {
            workingOrThrow();
            try {
                drives.syncAll();
            } catch (IOException e) {
                failStop("syncing the drives for a checkpoint", e);
                throw e;
            }
        }
    }

    private void reserveSequences(long until) throws IOException {
        synchronized (syncing) {
            workingOrThrow();
            try {
                drives.reserveSequences(until);
            } catch (IOException e) {
                failStop("reserving log sequence numbers", e);
                throw e;
            }
        }
        reservedSequence = until;
    }

    private void workingOrThrow() throws IOException {
        if (failure != null) {
            throw new IOException("the storage engine stopped after a drive error", failure);
        }
    }

    private void completeBatch(IoResult result, Exception failure) {
        for (LogOp op : batchOps) {
            // A callback that throws must cost its own operation only, not the writer or the batch's others.
            try {
                switch (op) {
                    case LogOp.HostWrite w -> w.completion().done(result);
                    case LogOp.HostUnmap u -> u.completion().done(result);
                    case LogOp.HostFlush f -> f.completion().done(result);
                    case LogOp.Relocation r -> complete(r.done(), failure);
                    case LogOp.Control c -> complete(c.done(), failure);
                    case LogOp.Task t -> {
                    }
                }
            } catch (RuntimeException e) {
                LOG.error("a completion callback threw; the log writer goes on", e);
            }
        }
        clearBatch();
    }

    /** Empties the batch after it completed or failed; its write entries are free for the next. */
    private void clearBatch() {
        batchOps.clear();
        batchEntries.clear();
        writeEntriesUsed = 0;
        entries.clear();
        payload.clear();
        batchNeedsSync = false;
    }

    private static void complete(java.util.concurrent.CompletableFuture<Void> done, Exception failure) {
        if (failure == null) {
            done.complete(null);
        } else {
            done.completeExceptionally(failure);
        }
    }

    private void failBatch(Throwable e) {
        batchOps.forEach(op -> fail(op, e));
        clearBatch();
    }

    /** Fails an operation: nothing of it can be relied on. */
    private static void fail(LogOp op, Throwable e) {
        switch (op) {
            case LogOp.HostWrite w -> w.completion().done(IoResult.FAILED);
            case LogOp.HostUnmap u -> u.completion().done(IoResult.FAILED);
            case LogOp.HostFlush f -> f.completion().done(IoResult.FAILED);
            case LogOp.Relocation r -> r.done().completeExceptionally(e);
            case LogOp.Control c -> c.done().completeExceptionally(e);
            case LogOp.Task t -> t.refused().accept(e);
        }
    }

    /** No segment is left for the batch. */
    static final class CapacityException extends Exception {
        CapacityException(String message) {
            super(message);
        }
    }
}
