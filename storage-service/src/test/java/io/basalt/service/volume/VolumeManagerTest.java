package io.basalt.service.volume;

import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.VolumeNotFoundException;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Volume;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.target.IoObserver;
import io.basalt.nvmetcp.target.Namespace;
import io.basalt.nvmetcp.target.Subsystem;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.basalt.service.volume.DeviceCalls.bytes;
import static io.basalt.service.volume.DeviceCalls.pattern;
import static io.basalt.service.volume.DeviceCalls.read;
import static io.basalt.service.volume.DeviceCalls.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VolumeManagerTest {
    private static final String HOST_A = "nqn.2014-08.org.nvmexpress:uuid:8b3e5c2a-1f4d-4e6a-9b7c-0d2e4f6a8b1c";
    private static final String HOST_B = "nqn.2014-08.com.example:host-b";
    private static final List<Portal> PORTALS = List.of(new Portal("tcp", "192.0.2.1", 4420));
    private static final long MIB = 1 << 20;

    @TempDir
    Path dataDir;
    private VolumeManager manager;

    @BeforeEach
    void open() throws IOException {
        manager = open(512);
    }

    @AfterEach
    void close() throws IOException {
        manager.close();
    }

    @Test
    void aNewNodeGetsOneSubsystemNqnThatSurvivesRestarts() throws IOException {
        String nqn = manager.subsystem().nqn();
        assertTrue(nqn.startsWith("nqn.2026-11.io.basalt:subsystem:"), nqn);
        UUID.fromString(nqn.substring("nqn.2026-11.io.basalt:subsystem:".length()));
        assertEquals(20, manager.subsystem().serial().length());

        restart();
        assertEquals(nqn, manager.subsystem().nqn());
    }

    @Test
    void createAllocatesASparseImageAndANamespace() {
        Volume volume = manager.create(new CreateVolumeRequest("db", 64 * MIB, List.of(HOST_A)));

        assertEquals("db", volume.name());
        assertEquals(64 * MIB, volume.sizeBytes());
        assertEquals(manager.subsystem().nqn(), volume.nqn());
        assertEquals(1, volume.nsid());
        assertEquals(32, volume.nguid().length());
        assertEquals(List.of(HOST_A), volume.hosts());
        assertEquals(PORTALS, volume.portals());

        Namespace ns = manager.subsystem().namespace(1);
        assertNotNull(ns);
        assertEquals(volume.uuid(), ns.uuid());
        assertArrayEquals(HexFormat.of().parseHex(volume.nguid()), ns.nguid());
        assertEquals(Set.of(HOST_A), ns.allowedHosts());
        assertEquals(512, ns.device().blockSize());
        assertEquals(64 * MIB / 512, ns.device().blockCount());
        assertEquals(64 * MIB, image(volume).toFile().length());
        assertEquals(List.of(volume), manager.list());
        assertEquals(volume, manager.find(volume.id()).orElseThrow());
    }

    @Test
    void volumesIdentitiesAndDataSurviveARestart() throws Exception {
        Volume first = manager.create(new CreateVolumeRequest("first", MIB, List.of(HOST_A, HOST_B)));
        Volume second = manager.create(new CreateVolumeRequest("second", 2 * MIB, List.of()));
        byte[] data = pattern(4096, 42);
        var device = manager.subsystem().namespace(second.nsid()).device();
        assertEquals(Status.SUCCESS, write(device, 8, 8, Unpooled.wrappedBuffer(data), true));

        restart();

        assertEquals(List.of(first, second), manager.list());
        Namespace ns = manager.subsystem().namespace(first.nsid());
        assertEquals(first.uuid(), ns.uuid());
        assertArrayEquals(HexFormat.of().parseHex(first.nguid()), ns.nguid());
        assertEquals(Set.of(HOST_A, HOST_B), ns.allowedHosts());
        ByteBuf dst = Unpooled.buffer();
        assertEquals(Status.SUCCESS, read(manager.subsystem().namespace(second.nsid()).device(), 8, 8, dst));
        assertArrayEquals(data, bytes(dst));
    }

    @Test
    void volumesKeepTheirBlockSizeWhenTheSettingChanges() throws IOException {
        Volume small = manager.create(new CreateVolumeRequest("small", MIB, List.of()));
        manager.close();
        manager = open(4096);

        assertEquals(512, manager.subsystem().namespace(small.nsid()).device().blockSize());
        Volume big = manager.create(new CreateVolumeRequest("big", MIB, List.of()));
        assertEquals(4096, manager.subsystem().namespace(big.nsid()).device().blockSize());
    }

    @Test
    void sizesMustBeWholeBlocksOfThisNode() throws IOException {
        manager.close();
        manager = open(4096);
        InvalidVolumeRequestException e = assertThrows(InvalidVolumeRequestException.class,
                () -> manager.create(new CreateVolumeRequest("v", 4096 + 512, List.of())));
        assertEquals("sizeBytes", e.field());
        assertTrue(e.getMessage().contains("4096"), e.getMessage());
        assertNothingCreated();
    }

    @Test
    void namesAreUnique() {
        manager.create(new CreateVolumeRequest("v", MIB, List.of()));
        VolumeConflictException e = assertThrows(VolumeConflictException.class,
                () -> manager.create(new CreateVolumeRequest("v", 2 * MIB, List.of())));
        assertEquals("name", e.field());
        assertEquals(1, manager.list().size());
    }

    @Test
    void nsidsAreTheLowestFreeAndReusedAfterDelete() throws IOException {
        Volume a = create("a");
        Volume b = create("b");
        Volume c = create("c");
        assertEquals(List.of(1, 2, 3), List.of(a.nsid(), b.nsid(), c.nsid()));

        manager.delete(b.id());
        assertEquals(2, create("d").nsid(), "the freed NSID is taken first");
        assertEquals(4, create("e").nsid());

        manager.delete(a.id());
        restart();
        assertEquals(List.of(2, 3, 4), manager.list().stream().map(Volume::nsid).toList(), "NSIDs are kept");
        assertEquals(1, create("f").nsid());
    }

    @Test
    void concurrentCreatesGetDistinctNsidsAndOneWinsEachName() throws Exception {
        int threads = 16;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Volume>> distinct = new ArrayList<>();
            List<Future<Volume>> contested = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                String name = "v" + i;
                distinct.add(pool.submit(() -> create(name)));
                contested.add(pool.submit(() -> create("contested")));
            }
            Set<Integer> nsids = new HashSet<>();
            for (Future<Volume> f : distinct) {
                nsids.add(f.get().nsid());
            }
            int winners = 0;
            for (Future<Volume> f : contested) {
                try {
                    nsids.add(f.get().nsid());
                    winners++;
                } catch (ExecutionException e) {
                    assertInstanceOf(VolumeConflictException.class, e.getCause());
                }
            }
            assertEquals(1, winners);
            assertEquals(threads + 1, nsids.size());
        } finally {
            pool.shutdown();
        }
        restart();
        assertEquals(threads + 1, manager.list().size());
    }

    @Test
    void aFailedCreateUsesNoNsid() throws IOException {
        create("a");
        whileRegistryWritesFail(() -> {
            assertThrows(UncheckedIOException.class, () -> create("b"));
        });
        assertEquals(2, create("c").nsid());
    }

    @Test
    void aCreateThatCannotBeRecordedLeavesNothingBehind() throws IOException {
        byte[] registryBefore = Files.readAllBytes(registry());
        whileRegistryWritesFail(() -> {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> create("v"));
            assertTrue(e.getMessage().contains("'v'"), e.getMessage());
        });
        assertNothingCreated();
        assertArrayEquals(registryBefore, Files.readAllBytes(registry()));
        assertEquals(1, create("v").nsid(), "the name is still free");
    }

    @Test
    void setHostsReplacesTheAclTellsHostsAndPersists() throws IOException {
        Volume volume = manager.create(new CreateVolumeRequest("v", MIB, List.of(HOST_A)));
        RecordingListener hostA = new RecordingListener(HOST_A);
        RecordingListener hostB = new RecordingListener(HOST_B);
        manager.subsystem().register(hostA);
        manager.subsystem().register(hostB);

        Volume updated = manager.setHosts(volume.id(), List.of(HOST_B));

        assertEquals(List.of(HOST_B), updated.hosts());
        assertEquals(Set.of(HOST_B), manager.subsystem().namespace(volume.nsid()).allowedHosts());
        assertEquals(List.of(volume.nsid()), hostA.changed, "the host that lost the volume is told");
        assertEquals(List.of(volume.nsid()), hostB.changed, "the host that gained it is told");
        restart();
        assertEquals(List.of(HOST_B), manager.find(volume.id()).orElseThrow().hosts());
    }

    @Test
    void setHostsThatCannotBeRecordedChangesNothing() throws IOException {
        Volume volume = manager.create(new CreateVolumeRequest("v", MIB, List.of(HOST_A)));
        whileRegistryWritesFail(() -> {
            assertThrows(UncheckedIOException.class, () -> manager.setHosts(volume.id(), List.of(HOST_B)));
        });
        assertEquals(List.of(HOST_A), manager.find(volume.id()).orElseThrow().hosts());
        assertEquals(Set.of(HOST_A), manager.subsystem().namespace(volume.nsid()).allowedHosts());
    }

    @Test
    void deleteRemovesNamespaceImageAndRecord() throws IOException {
        Volume volume = create("v");
        manager.delete(volume.id());

        assertNull(manager.subsystem().namespace(volume.nsid()));
        assertFalse(Files.exists(image(volume)));
        assertTrue(manager.find(volume.id()).isEmpty());
        restart();
        assertTrue(manager.list().isEmpty());
    }

    @Test
    void deleteThatCannotBeRecordedChangesNothing() throws IOException {
        Volume volume = create("v");
        whileRegistryWritesFail(() -> {
            assertThrows(UncheckedIOException.class, () -> manager.delete(volume.id()));
        });
        assertEquals(volume, manager.find(volume.id()).orElseThrow());
        assertNotNull(manager.subsystem().namespace(volume.nsid()));
        assertTrue(Files.exists(image(volume)));
    }

    @Test
    void unknownVolumesAreNotFound() {
        assertThrows(VolumeNotFoundException.class, () -> manager.delete("nope"));
        assertThrows(VolumeNotFoundException.class, () -> manager.setHosts("nope", List.of()));
        assertTrue(manager.find("nope").isEmpty());
    }

    @Test
    void observersAreAttachedAndToldOfDeletes() throws IOException {
        manager.close();
        List<String> events = new ArrayList<>();
        IoObserver observer = (opcode, bytes, nanos, status) -> { };
        manager = VolumeManager.open(dataDir, 512, () -> PORTALS, new VolumeObservers() {
            @Override
            public IoObserver observerFor(String volumeId, String volumeName) {
                events.add("open " + volumeName);
                return observer;
            }

            @Override
            public void volumeDeleted(String volumeId) {
                events.add("delete " + volumeId);
            }
        });
        Volume volume = create("v");
        assertEquals(observer, manager.subsystem().namespace(volume.nsid()).observer());
        manager.delete(volume.id());
        assertEquals(List.of("open v", "delete " + volume.id()), events);
    }

    @Test
    void aSecondManagerCannotOpenTheSameDataDirectory() {
        IOException e = assertThrows(IOException.class, () -> open(512));
        assertTrue(e.getMessage().contains("in use"), e.getMessage());
    }

    @Test
    void aMissingImageStopsTheStartWithAClearError() throws IOException {
        Volume volume = create("v");
        manager.close();
        Files.delete(image(volume));

        IOException e = assertThrows(IOException.class, () -> open(512));
        assertTrue(e.getMessage().contains(volume.id()) && e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void aCorruptRegistryStopsTheStartAndIsKept() throws IOException {
        manager.close();
        Files.writeString(registry(), "{not json");
        IOException e = assertThrows(IOException.class, () -> open(512));
        assertTrue(e.getMessage().contains("registry"), e.getMessage());
        assertEquals("{not json", Files.readString(registry()));
    }

    private Volume create(String name) {
        return manager.create(new CreateVolumeRequest(name, MIB, List.of()));
    }

    private VolumeManager open(int blockSize) throws IOException {
        return VolumeManager.open(dataDir, blockSize, () -> PORTALS, VolumeObservers.NONE);
    }

    private void restart() throws IOException {
        manager.close();
        manager = open(512);
    }

    private void assertNothingCreated() {
        assertTrue(manager.list().isEmpty());
        assertTrue(manager.subsystem().namespaces().isEmpty());
        assertEquals(0, dataDir.resolve(VolumeManager.IMAGES_DIR).toFile().list().length);
    }

    private Path image(Volume volume) {
        return dataDir.resolve(VolumeManager.IMAGES_DIR).resolve(volume.id() + VolumeManager.IMAGE_SUFFIX);
    }

    private Path registry() {
        return dataDir.resolve(VolumeRegistry.FILE_NAME);
    }

    /** Runs {@code body} while registry writes fail: a non-empty directory sits where the temporary file goes. */
    private void whileRegistryWritesFail(Runnable body) throws IOException {
        Path blocker = dataDir.resolve(VolumeRegistry.FILE_NAME + ".tmp");
        Files.createDirectories(blocker.resolve("x"));
        try {
            body.run();
        } finally {
            Files.delete(blocker.resolve("x"));
            Files.delete(blocker);
        }
    }

    private static final class RecordingListener implements Subsystem.NamespaceChangeListener {
        private final String hostNqn;
        final List<Integer> changed = new ArrayList<>();

        RecordingListener(String hostNqn) {
            this.hostNqn = hostNqn;
        }

        @Override
        public String hostNqn() {
            return hostNqn;
        }

        @Override
        public void namespacesChanged(Collection<Integer> nsids) {
            changed.addAll(nsids);
        }
    }
}
