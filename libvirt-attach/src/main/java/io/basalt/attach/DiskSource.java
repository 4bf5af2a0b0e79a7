package io.basalt.attach;

import io.basalt.attach.libvirt.DiskXml;

import java.nio.file.Path;

/** Where QEMU opens a connected volume. */
public sealed interface DiskSource {
    String diskXml(String serial, String targetDev);

    record BlockDevice(Path device) implements DiskSource {
        @Override
        public String diskXml(String serial, String targetDev) {
            return DiskXml.blockDevice(device, serial, targetDev);
        }
    }

    record NbdSocket(Path socket, long bridgePid) implements DiskSource {
        @Override
        public String diskXml(String serial, String targetDev) {
            return DiskXml.nbdUnixSocket(socket, serial, targetDev);
        }
    }
}
