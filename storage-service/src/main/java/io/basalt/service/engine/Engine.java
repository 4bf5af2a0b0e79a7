package io.basalt.service.engine;

import io.basalt.service.engine.drive.DriveRebuild;
import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.ec.ErasureCode;
import io.basalt.service.engine.drive.FileMedia;
import io.basalt.service.engine.drive.MetadataFiles;
import io.basalt.service.engine.drive.NodeMedia;
import io.basalt.service.engine.gc.GarbageCollector;
import io.basalt.service.engine.log.ControlTicket;
import io.basalt.service.engine.log.LogEntry;
import io.basalt.service.engine.log.LogOp;
import io.basalt.service.engine.log.LogWriter;
import io.basalt.service.engine.log.Recovery;
import io.basalt.service.engine.log.SegmentTable;
import io.basalt.service.engine.map.MapStore;
import io.basalt.service.engine.map.VolumeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Basalt's log-structured storage engine: maps (volumes and snapshots) over segments of the node's
 * drives. See docs/storage-engine.md for the on-drive format, the durability contract, the threads
 * and lock order, and recovery.
 *
 * <p>Map changes (create, clone, resize, compression, delete, revert) are logged and durable when the call
 * returns; they may block and must not be called on an event loop. A change that the writer has not
 * started within {@link #CONTROL_START_MILLIS} is cancelled and never applied
 * ({@link ControlCancelledException}); one that started is waited for until it is durable or failed.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    /**
     * How long a map change may wait in the writer's queue before it is cancelled: well below the
     * Cinder driver's request timeout, so the caller always learns whether the change happened.
     */
    static final long CONTROL_START_MILLIS = 20_000;
    /** Maps {@link #snapshotsOf} takes at once: their log entries stay well inside one batch. */
    public static final int MAX_SNAPSHOTS_AT_ONCE = 1024;
    /**
     * Segments the checkpoint chain usually occupies: the one its records are appended to and the one
     * before, until a base lets it go. Not usable capacity.
     */
    static final int CHECKPOINT_SEGMENTS = 2;

    private final EngineConfig config;
    private final DriveSet drives;
    private final SegmentTable segments;
    private final MapStore maps;
    private final ReentrantLock lock = new ReentrantLock();
    private final EngineCounters counters = new EngineCounters();
    private final AtomicInteger nextMapId;
    private final LogWriter writer;
    private final Checkpointer checkpointer;
    private final GarbageCollector gc;
    private final Scrubber scrubber;
    private final ReadPool readers;
    /** {@link #CONTROL_START_MILLIS}, shortened by tests. */
    long controlStartMillis = CONTROL_START_MILLIS;
    private final int reserveSegments;
    private final Recovery.Result recovery;
    private boolean closed;

    private Engine(EngineConfig config, DriveSet drives, MetadataFiles metadata, SegmentTable segments, MapStore maps,
                   Recovery.Result recovery) {
        this.config = config;
        this.drives = drives;
        this.segments = segments;
        this.maps = maps;
        this.recovery = recovery;
        this.nextMapId = new AtomicInteger(recovery.nextMapId());
        int count = segments.count();
        this.reserveSegments = Math.max(2, count / 50);
        int gcStart = reserveSegments + Math.max(2, count / 10);
        int gcStop = gcStart + Math.max(1, count / 20);
        GarbageCollector[] collector = new GarbageCollector[1];
        Checkpointer[] checkpoints = new Checkpointer[1];
        this.writer = new LogWriter(drives, segments, maps, lock, counters, new LogWriter.Listener() {
            @Override
            public void spaceLow() {
                collector[0].wake();
            }

            @Override
            public void logged(long bytes) {
                checkpoints[0].logged(bytes);
            }
        }, recovery.nextSequence(), config.syncEveryWrite(), reserveSegments, config.throttleMillis());
        this.checkpointer = new Checkpointer(drives, metadata, maps, segments, lock, writer, nextMapId,
                counters, config.checkpointEveryBytes(), config.checkpointEveryMillis(), recovery.checkpoints(),
                recovery.fromLegacyFile());
        checkpoints[0] = checkpointer;
        this.gc = new GarbageCollector(drives, segments, maps, lock, writer, checkpointer::checkpointNow, counters,
                gcStart, gcStop);
        collector[0] = gc;
        this.scrubber = new Scrubber(drives, segments, lock, writer);
        // A reader waits on its drive, so a few per drive keep drives busy; beyond 16 they only add threads.
        this.readers = new ReadPool(Math.min(16, Math.max(2, 2 * drives.drives().size())));
    }

    /** Opens the drives (creating missing drive files), recovers the maps and starts the writer and collector. */
    public static Engine open(EngineConfig config) throws IOException {
        return open(config, FileMedia.INSTANCE);
    }

    /** {@link #open(EngineConfig)} on other media: memory drives, or tests' drives that fail or lose power. */
    public static Engine open(EngineConfig config, NodeMedia media) throws IOException {
        DriveSet drives = DriveSet.open(media, config.drives(), config.nodeId(), config.segmentSize(),
                config.driveCreateBytes(), config.formatDrives(), config.erasureCode());
        try {
            MetadataFiles metadata = media.metadata(config.metadataDir());
            SegmentTable segments = new SegmentTable(drives.segmentCount(), drives.segmentSize());
            MapStore maps = new MapStore(segments);
            Recovery.Result recovery = Recovery.run(drives, maps, segments, metadata);
            int[] driveOf = new int[segments.count()];
            for (int s = 0; s < driveOf.length; s++) {
                driveOf[s] = drives.driveOf(s);
            }
            segments.rebuildFreeList(driveOf);
            LOG.info("storage engine recovered in {} ms: {}, replayed {} log batches ({} KiB), the log ends at "
                            + "sequence {} and goes on after {}; {} maps, {} of {} segments free, {} MiB live",
                    recovery.millis(),
                    recovery.fromLegacyFile() ? "from the data directory's checkpoint file (drive format 2)"
                            : recovery.fromCheckpoint() ? "from checkpoint " + recovery.checkpoints().last()
                            + " on the drives (" + recovery.checkpoints().deltas() + " deltas after its base)"
                            : "without a checkpoint (full scan)",
                    recovery.replayedBatches(), recovery.replayedBytes() >> 10, recovery.sequence(),
                    recovery.nextSequence(), maps.all().size(),
                    segments.freeCount(), segments.count(), segments.liveBytes() >> 20);
            Engine engine = new Engine(config, drives, metadata, segments, maps, recovery);
            engine.writer.start();
            // A checkpoint before any new write, always: recovery sealed the segments it replayed at the
            // end of what it replayed, and only a checkpoint records that. Without one, a crash before
            // the next checkpoint would make the next recovery scan those segments again and find their
            // torn or unflushed tail batches, whose sequence numbers the new log reuses.
            try {
                engine.checkpointer.checkpointNow();
            } catch (IOException | RuntimeException e) {
                engine.abort();
                throw e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                engine.abort();
                throw new IOException("interrupted while checkpointing the recovered state", e);
            }
            engine.gc.start();
            drives.resumeRebuild();
            return engine;
        } catch (IOException | RuntimeException e) {
            drives.close();
            throw e;
        }
    }

    public Recovery.Result recovery() {
        return recovery;
    }

    /**
     * The drive error that stopped the engine, if one did (fail-stop): it then acknowledges no write,
     * unmap, flush or map change, and takes no checkpoint, until it is restarted and has recovered.
     * Reads go on.
     */
    /** Drives marked failed (an erasure-coded node goes on without them), by index, with the reason. */
    public List<DriveSet.FailedDrive> failedDrives() {
        return drives.failedDrives();
    }

    /** The layout of the node's segments across its drives. */
    public ErasureCode erasureCode() {
        return drives.erasureCode();
    }

    /** Every drive by index, with its state; see docs/storage-engine.md, "Replacing a drive". */
    public List<DriveSet.DriveState> driveStates() {
        return drives.driveStates();
    }

    /**
     * Replaces failed drive {@code index} by the drive at {@code path} and rebuilds its chunks in the
     * background (see {@link DriveSet#replace}); returns once the replacement is recorded on the drives.
     * Blocks on drive I/O: never on an event loop.
     */
    public void replaceDrive(int index, Path path) throws IOException {
        if (writer.failure() != null) {
            throw new IllegalStateException("the storage engine stopped after a drive error; restart the node first");
        }
        drives.replace(index, path);
    }

    /** The running rebuild, or the last one since the start. */
    public Optional<DriveRebuild.Progress> rebuildProgress() {
        return drives.rebuildProgress();
    }

    /** Limits rebuilds to this many bytes per second (0: no limit), from now on. */
    public void rebuildBytesPerSecond(long bytesPerSecond) {
        drives.rebuildBytesPerSecond(bytesPerSecond);
    }

    /** Drive bytes the node's segments occupy, parity included (usable capacity × (k+m)/k). */
    public long rawBytes() {
        return drives.rawBytes();
    }

    public Optional<IOException> failure() {
        return Optional.ofNullable(writer.failure());
    }

    public EngineCounters counters() {
        return counters;
    }

    /** Ids of every map, volumes and snapshots alike. */
    public List<Integer> mapIds() {
        lock.lock();
        try {
            return maps.all().stream().map(VolumeMap::id).toList();
        } finally {
            lock.unlock();
        }
    }

    /** The map's volume, for serving it; empty if there is no such map. */
    public Optional<EngineVolume> volume(int id) {
        lock.lock();
        try {
            VolumeMap map = maps.get(id);
            return map == null ? Optional.empty()
                    : Optional.of(new EngineVolume(map, drives, segments, writer, readers, counters));
        } finally {
            lock.unlock();
        }
    }

    public long sizeBlocks(int id) {
        return existing(id).sizeBlocks();
    }

    /** Whether the map's next writes are compressed. */
    public boolean compressed(int id) {
        return existing(id).compressed();
    }

    public int createVolume(int blockSize, long sizeBlocks, boolean compressed) {
        int id = nextMapId.getAndIncrement();
        control(new LogEntry.Create(id, blockSize, sizeBlocks, compressed));
        return id;
    }

    /**
     * A new map sharing every block of {@code source}, in O(pages): a snapshot when {@code readOnly},
     * else a clone. It holds every write acknowledged before this call.
     */
    public int cloneOf(int source, long sizeBlocks, boolean compressed, boolean readOnly) {
        existing(source);
        int id = nextMapId.getAndIncrement();
        control(new LogEntry.Clone(id, source, sizeBlocks, compressed, readOnly));
        return id;
    }

    /**
     * Read-only snapshots of several maps at one instant, the i-th of {@code sources.get(i)}: one
     * control operation, logged as one batch, so every write acknowledged before this call is in all
     * of them and no write queued after the cut is in any, and recovery brings back all or none.
     *
     * @return the new maps' ids, in the order of {@code sources}
     * @throws IllegalArgumentException if a source does not exist, is named twice, or there are more
     *                                  than {@link #MAX_SNAPSHOTS_AT_ONCE}
     */
    public List<Integer> snapshotsOf(List<Integer> sources) {
        if (sources.isEmpty() || sources.size() > MAX_SNAPSHOTS_AT_ONCE) {
            throw new IllegalArgumentException("a snapshot of " + sources.size() + " maps at once; 1 to "
                    + MAX_SNAPSHOTS_AT_ONCE + " may be taken together");
        }
        if (Set.copyOf(sources).size() != sources.size()) {
            throw new IllegalArgumentException("maps " + sources + " name one map twice");
        }
        List<LogEntry> clones = new ArrayList<>(sources.size());
        List<Integer> ids = new ArrayList<>(sources.size());
        for (int source : sources) {
            VolumeMap map = existing(source);
            int id = nextMapId.getAndIncrement();
            clones.add(new LogEntry.Clone(id, source, map.sizeBlocks(), map.compressed(), true));
            ids.add(id);
        }
        control(clones);
        return List.copyOf(ids);
    }

    public void resize(int id, long sizeBlocks) {
        long current = existing(id).sizeBlocks();
        if (sizeBlocks < current) {
            // The map keeps the pages past a smaller size, so growing again would bring old data back.
            throw new IllegalArgumentException("map " + id + " has " + current + " blocks; shrinking to " + sizeBlocks
                    + " is refused");
        }
        control(new LogEntry.Resize(id, sizeBlocks));
    }

    /**
     * Whether the map's blocks written from now on are compressed; blocks already stored stay as they
     * are (reads handle both). Logged and durable when the call returns, like every map change.
     */
    public void setCompression(int id, boolean compressed) {
        if (existing(id).compressed() != compressed) {
            control(new LogEntry.Compression(id, compressed));
        }
    }

    public void delete(int id) {
        existing(id);
        control(new LogEntry.Delete(id));
    }

    public void revert(int id, int snapshot) {
        VolumeMap volume = existing(id);
        VolumeMap source = existing(snapshot);
        if (volume.lineage() != source.lineage()) {
            // Garbage collection moves a block only in the maps of the lineage that wrote it: a map of
            // another lineage sharing its pages would be left pointing at freed space.
            throw new IllegalArgumentException("map " + snapshot + " is not a snapshot of volume " + id
                    + "'s lineage; a volume can only be reverted to one of its own snapshots");
        }
        if (volume.readOnly()) {
            throw new IllegalArgumentException("map " + id + " is a snapshot; only a volume can be reverted");
        }
        control(new LogEntry.Revert(id, snapshot));
    }

    /**
     * Space map {@code id} references: mapped and stored bytes from counters kept as the map changes
     * (O(1)), and the stored bytes no other map holds, found page by page with the engine's lock held
     * for one page at a time, so that writes never wait for a whole walk.
     *
     * @throws IllegalArgumentException if there is no such map
     */
    public MapStore.Usage usage(int id) {
        VolumeMap map = existing(id);
        long exclusive = 0;
        long pages = MapStore.pageCount(map);
        for (int p = 0; p < pages; p++) {
            lock.lock();
            try {
                exclusive += maps.exclusiveBytes(id, p);
            } finally {
                lock.unlock();
            }
        }
        long stored = map.storedBytes();
        return new MapStore.Usage(map.mappedBlocks() * map.blockSize(), stored, Math.min(exclusive, stored));
    }

    /** Mapped and stored bytes of one map, O(1), without any lock: what metrics scrapes use. */
    public MapStore.Usage totals(int id) {
        VolumeMap map = existing(id);
        return new MapStore.Usage(map.mappedBlocks() * map.blockSize(), map.storedBytes(), 0);
    }

    /**
     * Space and write statistics of the whole engine: O(maps + segments) over counters, the lock held
     * only to copy the segment figures. Cheap enough for every metrics scrape and API call.
     */
    public EngineStats stats() {
        long mapped = 0;
        long stored = 0;
        for (VolumeMap map : mapsSnapshot()) {
            mapped += map.mappedBlocks() * map.blockSize();
            stored += map.storedBytes();
        }
        lock.lock();
        try {
            return new EngineStats(capacityBytes(), Math.min(segments.liveBytes(), capacityBytes()), segments.count(),
                    segments.freeCount(), counters.writeAmplification(), mapped, stored);
        } finally {
            lock.unlock();
        }
    }

    private List<VolumeMap> mapsSnapshot() {
        lock.lock();
        try {
            return List.copyOf(maps.all());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Usable capacity: every segment except the reserve garbage collection needs to move blocks and
     * {@link #CHECKPOINT_SEGMENTS} for the checkpoint chain.
     */
    public long capacityBytes() {
        return (long) (segments.count() - reserveSegments - CHECKPOINT_SEGMENTS) * segments.segmentSize();
    }

    public double maxOversubscription() {
        return config.maxOversubscription();
    }

    /** Runs garbage collection now, until enough segments are free or nothing is worth moving. */
    public void collectGarbage() throws IOException, InterruptedException {
        gc.collect();
    }

    /**
     * Starts the background scrub at most {@code bytesPerSecond} (see docs/storage-engine.md, "Scrub"): it
     * checks every sealed segment over and over, repairs damaged chunks from redundancy and reports what it
     * cannot repair ({@link #scrubStatus}).
     */
    public void startScrub(long bytesPerSecond) {
        scrubber.start(bytesPerSecond);
    }

    public ScrubStatus scrubStatus() {
        return scrubber.status();
    }

    /**
     * Test hook: one scrub pass over every sealed segment now, on the caller's thread, without a rate limit
     * (the background scrub must not run). Returns the segments damaged beyond repair.
     */
    List<Integer> scrubForTest() throws IOException {
        return scrubber.pass(0);
    }

    /** Takes a checkpoint and waits until it is durable. */
    public void checkpoint() throws IOException, InterruptedException {
        checkpointer.checkpointNow();
    }

    /** Finishes queued work, writes a final checkpoint (so the next start replays nothing) and closes. */
    @Override
    public void close() throws IOException {
        stop(true);
    }

    /**
     * Test hook: stops like a killed process. Operations already queued complete (their data reaches the
     * drive files, i.e. the page cache, as with kill -9), but no final checkpoint is written, so the next
     * {@link #open} must recover by replaying the log written since the last checkpoint.
     */
    void crashForTest() throws IOException {
        stop(false);
    }

    /** Test hook: the writer runs {@code action} between batches and does nothing else until it returns. */
    void onWriterForTest(Runnable action) {
        writer.submit(new LogOp.Task(action));
    }

    /** Stops the threads after a failed open; the caller closes the drives. */
    private void abort() {
        closed = true;
        readers.close();
        try {
            checkpointer.stop();
            writer.stop(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void stop(boolean finalCheckpoint) throws IOException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        readers.close();
        try {
            scrubber.stop(10_000);
            gc.stop(10_000);
            checkpointer.stop();
            writer.stop(30_000);
            if (finalCheckpoint && writer.failure() == null) {
                checkpointer.takeFinal();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            drives.close();
        }
    }

    private VolumeMap existing(int id) {
        lock.lock();
        try {
            VolumeMap map = maps.get(id);
            if (map == null) {
                throw new IllegalArgumentException("the engine has no map " + id);
            }
            return map;
        } finally {
            lock.unlock();
        }
    }

    private void control(LogEntry entry) {
        control(List.of(entry));
    }

    /** Logs {@code entries} in one batch and applies them, all or none. */
    private void control(List<LogEntry> entries) {
        Object described = entries.size() == 1 ? entries.getFirst() : entries;
        ControlTicket ticket = new ControlTicket();
        CompletableFuture<Void> done = new CompletableFuture<>();
        writer.submit(new LogOp.Control(entries, ticket, done));
        try {
            try {
                done.get(controlStartMillis, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (ticket.cancel()) {
                    throw new ControlCancelledException("the storage engine did not start " + described + " within "
                            + controlStartMillis + " ms; it was cancelled and nothing changed");
                }
                // Started: it ends, durably or with the writer failing it, and only then may the caller go on.
                done.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while logging " + described, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IllegalArgumentException invalid) {
                throw invalid;
            }
            throw new UncheckedIOException(new IOException("logging " + described + " failed: " + e.getCause().getMessage(),
                    e.getCause()));
        }
    }
}
