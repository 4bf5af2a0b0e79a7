package io.basalt.attach.kernel;

import io.basalt.attach.AttachException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A sysfs tree laid out as the kernel does with native multipath: /sys/block holds symlinks into /sys/devices. */
class SysfsNamespacesTest {
    private static final String UUID = "1b1e5cfc-f504-41d0-bc39-3592c6f1ee74";
    private static final String OTHER_UUID = "2c2f6d0d-0615-42e1-8d4a-46a3d7020f85";

    @TempDir
    Path sys;

    /** A block node: the device directory with its uuid attribute and the /sys/block symlink pointing at it. */
    private void blockNode(String name, String deviceDir, String uuid) throws IOException {
        Path device = sys.resolve("devices").resolve(deviceDir).resolve(name);
        Files.createDirectories(device);
        if (uuid != null) {
            Files.writeString(device.resolve("uuid"), uuid + "\n");
        }
        Files.createDirectories(sys.resolve("block"));
        Files.createSymbolicLink(sys.resolve("block").resolve(name), Path.of("..", "devices").resolve(deviceDir).resolve(name));
    }

    private void multipathNamespace(int subsys, int nsid, String uuid, int... controllers) throws IOException {
        blockNode("nvme" + subsys + "n" + nsid, "virtual/nvme-subsystem/nvme-subsys" + subsys, uuid);
        for (int c : controllers) {
            blockNode("nvme" + subsys + "c" + c + "n" + nsid, "virtual/nvme-fabrics/ctl/nvme" + c, uuid);
        }
    }

    @Test
    void findsTheVisibleNodeAndNeverAHiddenPath() throws Exception {
        blockNode("vda", "pci0000:00/0000:00:04.0/virtio2/block", null);
        multipathNamespace(0, 1, OTHER_UUID, 0, 1);
        multipathNamespace(0, 2, UUID, 0, 1);
        SysfsNamespaces namespaces = new SysfsNamespaces(sys);
        assertEquals(Optional.of("nvme0n2"), namespaces.deviceName(UUID));
        assertEquals(Optional.of("nvme0n2"), namespaces.deviceName(UUID.toUpperCase()));
        assertEquals(Path.of("/dev/nvme0n2"), namespaces.awaitDevice(UUID, Duration.ofSeconds(1)));
    }

    @Test
    void hiddenPathsAloneDoNotCount() throws Exception {
        blockNode("nvme0c0n1", "virtual/nvme-fabrics/ctl/nvme0", UUID);
        assertEquals(Optional.empty(), new SysfsNamespaces(sys).deviceName(UUID));
    }

    @Test
    void waitsForTheNamespaceToAppear() throws Exception {
        multipathNamespace(0, 1, OTHER_UUID, 0);
        Thread scan = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(300);
                multipathNamespace(1, 1, UUID, 2);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(Path.of("/dev/nvme1n1"), new SysfsNamespaces(sys).awaitDevice(UUID, Duration.ofSeconds(10)));
        scan.join();
    }

    @Test
    void aMissingNamespaceFailsAfterTheBoundNamingTheUuid() throws Exception {
        multipathNamespace(0, 1, OTHER_UUID, 0);
        long start = System.nanoTime();
        AttachException e = assertThrows(AttachException.class,
                () -> new SysfsNamespaces(sys).awaitDevice(UUID, Duration.ofMillis(300)));
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(300).toNanos());
        assertTrue(e.getMessage().contains(UUID), e.getMessage());
    }

    @Test
    void noBlockDirectoryMeansNotFound() {
        assertEquals(Optional.empty(), new SysfsNamespaces(sys).deviceName(UUID));
    }
}
