package io.basalt.attach.kernel;

import io.basalt.attach.AttachException;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Volume;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Kernel mode's failure on a host without nvme-tcp, with a script for nvme and a temporary sysfs. */
class KernelConnectorTest {
    private static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
    private static final Volume VOLUME = new Volume("v1", "a", "default", 1 << 20, false, 1,
            "nqn.2026-11.io.basalt:subsystem:x", 1, UUID.fromString("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
            "aaaaaaaabbbbccccddddeeeeeeeeeeee", List.of(), List.of(new Portal("tcp", "127.0.0.1", 4420)), null, null, null);

    @TempDir
    Path dir;

    private KernelConnector connector(Path sysfs) throws Exception {
        Path nvme = dir.resolve("nvme");
        // what nvme-cli 2.x prints when /dev/nvme-fabrics works but the tcp transport cannot be loaded
        Files.writeString(nvme, "#!/bin/sh\necho 'Failed to scan topology: No such file or directory'\nexit 1\n");
        Files.setPosixFilePermissions(nvme, PosixFilePermissions.fromString("rwx------"));
        return new KernelConnector(new NvmeCli(nvme.toString(), Duration.ofSeconds(10)), new SysfsNamespaces(sysfs),
                HOST, Duration.ofSeconds(1));
    }

    /** Gave only nvme-cli's "Failed to scan topology" before; this failed against that message. */
    @Test
    void withoutTheModuleTheErrorSaysSoAndSuggestsUserspaceMode() throws Exception {
        Path sysfs = Files.createDirectories(dir.resolve("sys/module/nvme_core"));
        AttachException e = assertThrows(AttachException.class, () -> connector(sysfs.getParent().getParent()).connect(VOLUME, "g", false));
        assertTrue(e.getMessage().startsWith("the nvme-tcp kernel module is not loaded"), e.getMessage());
        assertTrue(e.getMessage().contains("--mode userspace"), e.getMessage());
        assertTrue(e.getMessage().contains("Failed to scan topology"), "nvme-cli's own words stay: " + e.getMessage());
    }

    @Test
    void withTheModuleLoadedNvmeClisErrorStandsAlone() throws Exception {
        Path sysfs = dir.resolve("sys");
        Files.createDirectories(sysfs.resolve("module/nvme_tcp"));
        AttachException e = assertThrows(AttachException.class, () -> connector(sysfs).connect(VOLUME, "g", false));
        assertFalse(e.getMessage().contains("kernel module"), e.getMessage());
        assertTrue(e.getMessage().contains("Failed to scan topology"), e.getMessage());
    }
}
