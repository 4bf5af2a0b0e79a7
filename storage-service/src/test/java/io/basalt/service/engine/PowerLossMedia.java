package io.basalt.service.engine;

import io.basalt.service.engine.drive.DriveIo;
import io.basalt.service.engine.drive.MetadataFiles;
import io.basalt.service.engine.drive.NodeMedia;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

/**
 * Drives and metadata files in memory that behave like a drive with a volatile write cache across a
 * power cut. Every write since a drive's last sync is volatile: reads see it, but {@link #powerCut}
 * keeps, for each 4 KiB sector such writes touched, the sector as of a random point of its history
 * (none of the writes, some of them, or all), and tears a quarter of those sectors (each 512-byte
 * piece old or new). Sectors are decided independently, so later writes may persist while earlier
 * ones do not. Metadata files (only ever read and deleted now) are deleted durably.
 *
 * <p>{@link #cutAfter} makes the power fail at the n-th write, sync or metadata delete from now on:
 * that call and every later one fails until {@link #powerCut} restores power, and drives opened
 * before it stay dead. {@link #failSync} makes the n-th sync from now fail the way Linux reports a
 * writeback error: the drive's unsynced writes stay readable but never reach the medium, and the
 * next sync succeeds.
 */
public final class PowerLossMedia implements NodeMedia {
    static final int SECTOR = 4096;
    private static final int PIECE = 512;

    private final Map<Path, Medium> drives = new HashMap<>();
    private final Map<String, byte[]> metadata = new HashMap<>();
    private int generation;
    private boolean powered = true;
    private long operationsUntilCut = -1;
    private int syncsUntilFailure = -1;
    private int splitCuts;
    private CountDownLatch syncGate;
    private final CountDownLatch syncHeld = new CountDownLatch(1);

    /** One drive's medium: what survives a cut, and what reads see. */
    private static final class Medium {
        final byte[] durable;
        final byte[] current;
        final List<Write> unsynced = new ArrayList<>();

        Medium(int size) {
            durable = new byte[size];
            current = new byte[size];
        }

        /** Every unsynced write reaches the medium. */
        void persistUnsynced() {
            for (Write write : unsynced) {
                System.arraycopy(write.bytes(), 0, durable, write.position(), write.bytes().length);
            }
            unsynced.clear();
        }
    }

    private record Write(int position, byte[] bytes) {
    }

    public synchronized void cutAfter(long operations) {
        operationsUntilCut = operations;
    }

    synchronized void failSync(int nth) {
        syncsUntilFailure = nth;
    }

    /** Makes syncs wait until {@code gate} opens; {@link #awaitHeldSync} waits until one does. */
    synchronized void holdSyncs(CountDownLatch gate) {
        syncGate = gate;
    }

    void awaitHeldSync() throws InterruptedException {
        syncHeld.await();
    }

    synchronized boolean powered() {
        return powered;
    }

    /**
     * Cuts where some drives had written a stripe's chunks and others not: every unsynced write of
     * {@code lost} is gone, every other drive's reached its medium whole. Powers the media up again.
     */
    synchronized void powerCutLosing(Path lost) {
        drives.forEach((path, medium) -> {
            if (path.equals(lost)) {
                medium.unsynced.clear();
            } else {
                medium.persistUnsynced();
            }
            System.arraycopy(medium.durable, 0, medium.current, 0, medium.durable.length);
        });
        restorePower();
    }

    /** Takes a drive away, as if pulled out: the next start finds it missing. */
    synchronized void remove(Path drive) {
        drives.remove(drive);
    }

    /**
     * Power cuts so far that left a write partly on the media across drives: a drive kept unsynced
     * writes while another drive lost some of its own. On an erasure-coded node such a cut falls in the
     * middle of a stripe write (some chunks persisted, others not).
     */
    synchronized int splitCuts() {
        return splitCuts;
    }

    /** Decides what of the unsynced writes survived, and powers the media up again. */
    public synchronized void powerCut(Random random) {
        List<Medium> keptSome = new ArrayList<>();
        List<Medium> lostSome = new ArrayList<>();
        for (Medium medium : drives.values()) {
            TreeMap<Integer, List<Write>> bySector = new TreeMap<>();
            for (Write write : medium.unsynced) {
                for (int s = write.position() / SECTOR; s <= (write.position() + write.bytes().length - 1) / SECTOR; s++) {
                    bySector.computeIfAbsent(s, k -> new ArrayList<>()).add(write);
                }
            }
            byte[] sector = new byte[SECTOR];
            boolean[] keptHere = {false};
            boolean[] lostHere = {false};
            bySector.forEach((s, writes) -> {
                int start = s * SECTOR;
                System.arraycopy(medium.durable, start, sector, 0, SECTOR);
                int kept = random.nextInt(writes.size() + 1);
                if (kept > 0) {
                    keptHere[0] = true;
                }
                if (kept < writes.size()) {
                    lostHere[0] = true;
                }
                for (Write write : writes.subList(0, kept)) {
                    int from = Math.max(start, write.position());
                    int to = Math.min(start + SECTOR, write.position() + write.bytes().length);
                    System.arraycopy(write.bytes(), from - write.position(), sector, from - start, to - from);
                }
                boolean torn = kept > 0 && random.nextInt(4) == 0;
                for (int p = 0; p < SECTOR; p += PIECE) {
                    if (!torn || random.nextBoolean()) {
                        System.arraycopy(sector, p, medium.durable, start + p, PIECE);
                    }
                }
            });
            medium.unsynced.clear();
            System.arraycopy(medium.durable, 0, medium.current, 0, medium.durable.length);
            if (keptHere[0]) {
                keptSome.add(medium);
            }
            if (lostHere[0]) {
                lostSome.add(medium);
            }
        }
        if (!keptSome.isEmpty() && !lostSome.isEmpty()
                && (keptSome.size() > 1 || lostSome.size() > 1 || keptSome.getFirst() != lostSome.getFirst())) {
            splitCuts++;
        }
        restorePower();
    }

    private void restorePower() {
        generation++;
        powered = true;
        operationsUntilCut = -1;
        syncsUntilFailure = -1;
    }

    /** A drive's durable bytes, changed offline (the power is on, no engine runs): see {@link OnDriveCheckpoints}. */
    OnDriveCheckpoints.Bytes offline(Path path) {
        return new OnDriveCheckpoints.Bytes() {
            @Override
            public long size() {
                synchronized (PowerLossMedia.this) {
                    return drives.get(path).durable.length;
                }
            }

            @Override
            public void read(long position, byte[] into) {
                synchronized (PowerLossMedia.this) {
                    System.arraycopy(drives.get(path).durable, Math.toIntExact(position), into, 0, into.length);
                }
            }

            @Override
            public void write(long position, byte[] bytes) {
                synchronized (PowerLossMedia.this) {
                    Medium medium = drives.get(path);
                    System.arraycopy(bytes, 0, medium.durable, Math.toIntExact(position), bytes.length);
                    System.arraycopy(bytes, 0, medium.current, Math.toIntExact(position), bytes.length);
                }
            }
        };
    }

    @Override
    public synchronized DriveIo open(Path path) {
        Medium medium = drives.get(path);
        return medium == null ? null : new Session(medium, generation);
    }

    @Override
    public synchronized DriveIo create(Path path, long bytes, ByteBuffer head) throws IOException {
        mutation();
        Medium medium = new Medium(Math.toIntExact(bytes));
        ByteBuffer source = head.duplicate();
        source.get(medium.durable, 0, source.remaining());
        System.arraycopy(medium.durable, 0, medium.current, 0, medium.durable.length);
        drives.put(path, medium);
        return new Session(medium, generation);
    }

    @Override
    public MetadataFiles metadata(Path directory) {
        int opened = generation;
        return new MetadataFiles() {
            @Override
            public InputStream read(String name) throws IOException {
                synchronized (PowerLossMedia.this) {
                    alive(opened);
                    byte[] content = metadata.get(name);
                    return content == null ? null : new ByteArrayInputStream(content);
                }
            }

            @Override
            public void delete(String name) throws IOException {
                synchronized (PowerLossMedia.this) {
                    alive(opened);
                    mutation();
                    metadata.remove(name);
                }
            }
        };
    }

    private void alive(int opened) throws IOException {
        if (!powered || opened != generation) {
            throw new SimulatedFailure("simulated power loss: the drive is gone");
        }
    }

    /** Counts a write, sync or replace towards the cut; fails it if the power goes now. */
    private void mutation() throws IOException {
        if (operationsUntilCut > 0 && --operationsUntilCut == 0) {
            powered = false;
        }
        if (!powered) {
            throw new SimulatedFailure("simulated power loss");
        }
    }

    private final class Session implements DriveIo {
        private final Medium medium;
        private final int opened;

        Session(Medium medium, int opened) {
            this.medium = medium;
            this.opened = opened;
        }

        @Override
        public long size() {
            return medium.current.length;
        }

        @Override
        public void read(ByteBuffer destination, long position) throws IOException {
            synchronized (PowerLossMedia.this) {
                alive(opened);
                destination.put(medium.current, Math.toIntExact(position), destination.remaining());
            }
        }

        @Override
        public void write(ByteBuffer[] parts, long position) throws IOException {
            synchronized (PowerLossMedia.this) {
                alive(opened);
                mutation();
                int at = Math.toIntExact(position);
                for (ByteBuffer part : parts) {
                    byte[] bytes = new byte[part.remaining()];
                    part.get(bytes);
                    System.arraycopy(bytes, 0, medium.current, at, bytes.length);
                    medium.unsynced.add(new Write(at, bytes));
                    at += bytes.length;
                }
            }
        }

        @Override
        public void sync() throws IOException {
            CountDownLatch gate;
            synchronized (PowerLossMedia.this) {
                gate = syncGate;
            }
            if (gate != null) {
                syncHeld.countDown();
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
            synchronized (PowerLossMedia.this) {
                alive(opened);
                mutation();
                if (syncsUntilFailure > 0 && --syncsUntilFailure == 0) {
                    medium.unsynced.clear();
                    throw new SimulatedFailure("simulated writeback error: the unsynced writes are lost");
                }
                medium.persistUnsynced();
            }
        }

        @Override
        public void close() {
        }
    }

    /** A failure the test made: its stack trace would only fill the engine's error log 2,000 times over. */
    private static final class SimulatedFailure extends IOException {
        SimulatedFailure(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
