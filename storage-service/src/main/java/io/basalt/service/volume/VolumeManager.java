package io.basalt.service.volume;

import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.VolumeNotFoundException;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Volume;
import io.basalt.nvmetcp.target.Namespace;
import io.basalt.nvmetcp.target.Subsystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The node's volumes: one subsystem whose namespaces are volumes, each backed by a sparse image file
 * {@code <data>/volumes/<id>.img}, all recorded in the registry so that they survive restarts.
 *
 * <p>Changes are serialised and made durable in the registry before hosts can see them, so a failed
 * change leaves neither the registry, the files nor the subsystem half-changed. Reads do not lock.
 */
public final class VolumeManager implements VolumeService, AutoCloseable {
    static final String IMAGES_DIR = "volumes";
    static final String IMAGE_SUFFIX = ".img";
    static final String MODEL = "Basalt";
    /** Identify Controller's serial number field holds 20 ASCII characters. */
    private static final int SERIAL_LENGTH = 20;
    private static final int IO_THREADS = Math.clamp(Runtime.getRuntime().availableProcessors(), 2, 8);
    private static final Logger LOG = LoggerFactory.getLogger(VolumeManager.class);

    private final Path imagesDir;
    private final int blockSize;
    private final Supplier<List<Portal>> portals;
    private final VolumeObservers observers;
    private final VolumeRegistry registry;
    private final DataDirLock dataDirLock;
    private final Subsystem subsystem;
    private final ExecutorService io;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, OpenVolume> volumes = new ConcurrentHashMap<>();
    private final Object mutations = new Object();
    /** What the registry file holds; guarded by {@link #mutations}. */
    private RegistryContent persisted;
    /** Guarded by {@link #mutations}. */
    private boolean closed;

    private record OpenVolume(VolumeRecord record, FileBlockDevice device) {
    }

    private VolumeManager(Path dataDir, int blockSize, Supplier<List<Portal>> portals, VolumeObservers observers,
                          VolumeRegistry registry, DataDirLock dataDirLock, RegistryContent persisted) {
        this.imagesDir = dataDir.resolve(IMAGES_DIR);
        this.blockSize = blockSize;
        this.portals = portals;
        this.observers = observers;
        this.registry = registry;
        this.dataDirLock = dataDirLock;
        this.persisted = persisted;
        this.subsystem = new Subsystem(persisted.subsystemNqn(), serialOf(persisted.subsystemNqn()), MODEL);
        this.io = Executors.newFixedThreadPool(IO_THREADS,
                Thread.ofPlatform().name("basalt-file-io-", 0).daemon(true).factory());
    }

    /**
     * Opens the data directory, creating it (and the node's subsystem NQN) on first use, and
     * exposes every registered volume as a namespace of {@link #subsystem()}.
     *
     * @param blockSize block size of volumes created from now on; existing volumes keep theirs
     * @param portals   where hosts reach the subsystem, asked each time a volume is shown
     */
    public static VolumeManager open(Path dataDir, int blockSize, Supplier<List<Portal>> portals,
                                     VolumeObservers observers) throws IOException {
        Files.createDirectories(dataDir.resolve(IMAGES_DIR));
        DataDirLock lock = DataDirLock.acquire(dataDir);
        VolumeManager manager;
        try {
            VolumeRegistry registry = VolumeRegistry.in(dataDir);
            manager = new VolumeManager(dataDir, blockSize, portals, observers, registry, lock,
                    registry.loadOrCreate());
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
        try {
            manager.restore();
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
        return manager;
    }

    /** The node's one subsystem, to be added to the NVMe target. */
    public Subsystem subsystem() {
        return subsystem;
    }

    @Override
    public Volume create(CreateVolumeRequest request) {
        synchronized (mutations) {
            if (volumes.values().stream().anyMatch(v -> v.record().name().equals(request.name()))) {
                throw new VolumeConflictException("name", "a volume named '" + request.name() + "' already exists");
            }
            if (request.sizeBytes() % blockSize != 0) {
                throw new InvalidVolumeRequestException("sizeBytes",
                        "sizeBytes must be a multiple of this node's block size, " + blockSize + " bytes");
            }
            VolumeRecord record = new VolumeRecord(UUID.randomUUID().toString(), request.name(),
                    request.sizeBytes(), blockSize, lowestFreeNsid(), UUID.randomUUID(), randomNguid(),
                    request.hosts());
            try {
                add(record);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create volume '" + request.name() + "': " + e.getMessage(), e);
            }
            LOG.info("created volume {} '{}' ({} bytes) as NSID {}", record.id(), record.name(),
                    record.sizeBytes(), record.nsid());
            return view(record);
        }
    }

    @Override
    public List<Volume> list() {
        return volumes.values().stream()
                .map(OpenVolume::record)
                .sorted(Comparator.comparingInt(VolumeRecord::nsid))
                .map(this::view)
                .toList();
    }

    @Override
    public Optional<Volume> find(String id) {
        return Optional.ofNullable(volumes.get(id)).map(v -> view(v.record()));
    }

    @Override
    public Volume setHosts(String id, List<String> hosts) {
        synchronized (mutations) {
            OpenVolume volume = existing(id);
            VolumeRecord updated = volume.record().withHosts(hosts);
            persist(records(updated, null), "cannot change the hosts of volume " + id);
            subsystem.setAllowedHosts(updated.nsid(), Set.copyOf(hosts));
            volumes.put(id, new OpenVolume(updated, volume.device()));
            LOG.info("volume {} '{}' now allows hosts {}", id, updated.name(), hosts);
            return view(updated);
        }
    }

    @Override
    public void delete(String id) {
        synchronized (mutations) {
            OpenVolume volume = existing(id);
            persist(records(null, id), "cannot delete volume " + id);
            subsystem.removeNamespace(volume.record().nsid());
            volumes.remove(id);
            observers.volumeDeleted(id);
            closeDevice(volume.device());
            Path image = imagePath(id);
            try {
                Files.deleteIfExists(image);
            } catch (IOException e) {
                LOG.warn("volume {} deleted, but its image {} could not be removed: {}", id, image, e.toString());
            }
            LOG.info("deleted volume {} '{}' (NSID {})", id, volume.record().name(), volume.record().nsid());
        }
    }

    /**
     * Closes every device and the I/O threads; the subsystem keeps its namespaces but they fail I/O.
     * Idempotent.
     */
    @Override
    public void close() throws IOException {
        synchronized (mutations) {
            if (closed) {
                return;
            }
            closed = true;
            volumes.values().forEach(v -> closeDevice(v.device()));
            io.shutdown();
            try {
                if (!io.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.warn("file I/O threads still busy after 10 s; leaving them behind");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            dataDirLock.close();
        }
    }

    private void restore() throws IOException {
        synchronized (mutations) {
            for (VolumeRecord record : persisted.volumes()) {
                Path image = imagePath(record.id());
                if (!Files.isRegularFile(image)) {
                    throw new IOException("volume " + record.id() + " '" + record.name() + "': image " + image
                            + " is missing");
                }
                FileBlockDevice device = FileBlockDevice.open(image, record.blockSize(), io);
                if (device.blockCount() * record.blockSize() != record.sizeBytes()) {
                    closeDevice(device);
                    throw new IOException("volume " + record.id() + " '" + record.name() + "': image " + image
                            + " is " + device.blockCount() * record.blockSize() + " bytes, the registry says "
                            + record.sizeBytes());
                }
                expose(record, device);
            }
            warnAboutUnregisteredImages();
            LOG.info("subsystem {} serves {} volume(s) from {}", subsystem.nqn(), volumes.size(), registry.file());
        }
    }

    /** Creates the image, then records it, then shows it to hosts; undoes the earlier steps if a later one fails. */
    private void add(VolumeRecord record) throws IOException {
        Path image = createImage(record);
        FileBlockDevice device = null;
        try {
            device = FileBlockDevice.open(image, record.blockSize(), io);
            persist(records(record, null));
        } catch (IOException | RuntimeException e) {
            if (device != null) {
                closeDevice(device);
            }
            try {
                Files.deleteIfExists(image);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        expose(record, device);
    }

    private void expose(VolumeRecord record, FileBlockDevice device) {
        Namespace namespace = new Namespace(record.nsid(), record.uuid(), record.nguidBytes(), device,
                Set.copyOf(record.hosts()));
        namespace.observer(observers.observerFor(record.id(), record.name()));
        subsystem.addNamespace(namespace);
        volumes.put(record.id(), new OpenVolume(record, device));
    }

    /** A sparse file of the volume's size, durable (file and directory entry) before the registry names it. */
    private Path createImage(VolumeRecord record) throws IOException {
        Path image = Files.createFile(imagePath(record.id()));
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(record.sizeBytes());
            file.getFD().sync();
            AtomicFiles.syncDirectory(imagesDir);
        } catch (IOException e) {
            Files.deleteIfExists(image);
            throw e;
        }
        return image;
    }

    private void persist(List<VolumeRecord> records, String failure) {
        try {
            persist(records);
        } catch (IOException e) {
            throw new UncheckedIOException(failure + ": " + e.getMessage(), e);
        }
    }

    private void persist(List<VolumeRecord> records) throws IOException {
        RegistryContent next = persisted.withVolumes(records);
        registry.save(next);
        persisted = next;
    }

    /** Current records with {@code changed} added or replacing its namesake, and {@code removedId} left out. */
    private List<VolumeRecord> records(VolumeRecord changed, String removedId) {
        List<VolumeRecord> records = new ArrayList<>();
        for (OpenVolume volume : volumes.values()) {
            String id = volume.record().id();
            if (!id.equals(removedId) && (changed == null || !id.equals(changed.id()))) {
                records.add(volume.record());
            }
        }
        if (changed != null) {
            records.add(changed);
        }
        records.sort(Comparator.comparingInt(VolumeRecord::nsid));
        return records;
    }

    private OpenVolume existing(String id) {
        OpenVolume volume = volumes.get(id);
        if (volume == null) {
            throw new VolumeNotFoundException(id);
        }
        return volume;
    }

    /** The smallest NSID not in use, so NSIDs of deleted volumes are reused and the range stays dense. */
    private int lowestFreeNsid() {
        Set<Integer> used = new HashSet<>();
        volumes.values().forEach(v -> used.add(v.record().nsid()));
        int nsid = 1;
        while (used.contains(nsid)) {
            nsid++;
        }
        if (nsid > Subsystem.MAX_NAMESPACES) {
            throw new VolumeConflictException(null,
                    "this node already serves " + Subsystem.MAX_NAMESPACES + " volumes, the most it can");
        }
        return nsid;
    }

    private String randomNguid() {
        byte[] nguid = new byte[16];
        random.nextBytes(nguid);
        return HexFormat.of().formatHex(nguid);
    }

    private Volume view(VolumeRecord record) {
        return new Volume(record.id(), record.name(), record.sizeBytes(), subsystem.nqn(), record.nsid(),
                record.uuid(), record.nguid(), record.hosts(), portals.get());
    }

    private Path imagePath(String id) {
        return imagesDir.resolve(id + IMAGE_SUFFIX);
    }

    /** Images left by a crash between creating an image and registering it; kept, in case they matter. */
    private void warnAboutUnregisteredImages() throws IOException {
        try (DirectoryStream<Path> images = Files.newDirectoryStream(imagesDir, "*" + IMAGE_SUFFIX)) {
            for (Path image : images) {
                String id = image.getFileName().toString().replace(IMAGE_SUFFIX, "");
                if (!volumes.containsKey(id)) {
                    LOG.warn("image {} belongs to no registered volume; remove it if it is not needed", image);
                }
            }
        }
    }

    private static void closeDevice(FileBlockDevice device) {
        try {
            device.close();
        } catch (IOException e) {
            LOG.warn("closing a volume image failed: {}", e.toString());
        }
    }

    /** The UUID digits of the NQN, which make the serial as unique as the NQN. */
    private static String serialOf(String nqn) {
        String digits = nqn.substring(nqn.lastIndexOf(':') + 1).replace("-", "");
        return digits.length() > SERIAL_LENGTH ? digits.substring(0, SERIAL_LENGTH) : digits;
    }
}
