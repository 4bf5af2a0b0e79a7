package io.basalt.attach.kernel;

import io.basalt.attach.AttachException;
import io.basalt.attach.Deadline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds the block device of an NVMe namespace by its UUID in sysfs. With native multipath each
 * namespace has one visible {@code nvmeXnY} node plus hidden per-path {@code nvmeXcZnY} nodes that
 * carry the same UUID; only the visible node can be opened, so only it is considered.
 */
public final class SysfsNamespaces {
    private static final Pattern VISIBLE_NAMESPACE = Pattern.compile("nvme\\d+n\\d+");

    private final Path sysfs;

    /** @param sysfs where sysfs is mounted: {@code /sys} on a host, a temporary tree in tests */
    public SysfsNamespaces(Path sysfs) {
        this.sysfs = sysfs;
    }

    /** Whether the kernel's NVMe/TCP host ({@code nvme-tcp}) is loaded, as {@code /sys/module/nvme_tcp} shows. */
    public boolean nvmeTcpLoaded() {
        return Files.isDirectory(sysfs.resolve("module/nvme_tcp"));
    }

    /** The visible namespace node with that UUID, if the kernel has one now. */
    public Optional<String> deviceName(String uuid) {
        Path block = sysfs.resolve("block");
        if (!Files.isDirectory(block)) {
            return Optional.empty();
        }
        try (Stream<Path> nodes = Files.list(block)) {
            return nodes.map(p -> p.getFileName().toString())
                    .filter(name -> VISIBLE_NAMESPACE.matcher(name).matches())
                    .filter(name -> uuid.equalsIgnoreCase(readUuid(block.resolve(name))))
                    .sorted()
                    .findFirst();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits, bounded, for the namespace to appear: after a connect or an ACL change the kernel scans asynchronously. */
    public Path awaitDevice(String uuid, Duration timeout) throws AttachException {
        Deadline deadline = Deadline.after(timeout);
        while (true) {
            Optional<String> name = deviceName(uuid);
            if (name.isPresent()) {
                return Path.of("/dev", name.get());
            }
            if (deadline.expired()) {
                throw new AttachException("no NVMe namespace with UUID " + uuid + " appeared under "
                        + sysfs.resolve("block") + " within " + timeout.toMillis() + " ms");
            }
            deadline.pause("namespace " + uuid + " to appear");
        }
    }

    private static String readUuid(Path node) {
        try {
            return Files.readString(node.resolve("uuid")).trim();
        } catch (IOException e) {
            // a node without a uuid attribute, or one that vanished while listing, is not the one sought
            return "";
        }
    }
}
