package io.basalt.attach.libvirt;

import org.w3c.dom.Document;
import org.w3c.dom.Element;

import java.nio.file.Path;

/**
 * The libvirt {@code <disk>} element of a Basalt volume. The serial is the volume id because guests
 * name disks by arrival order; the serial is the only name that stays with the volume.
 */
public final class DiskXml {
    private DiskXml() {
    }

    /** Kernel mode: QEMU opens the namespace's block device; native AIO needs cache='none', which bypasses the host page cache. */
    public static String blockDevice(Path device, String serial, String targetDev) {
        Document doc = XmlDocuments.empty();
        Element disk = disk(doc, "block");
        Element driver = child(disk, "driver");
        driver.setAttribute("name", "qemu");
        driver.setAttribute("type", "raw");
        driver.setAttribute("cache", "none");
        driver.setAttribute("io", "native");
        child(disk, "source").setAttribute("dev", device.toString());
        finish(disk, serial, targetDev);
        return XmlDocuments.print(disk);
    }

    /** Userspace mode: QEMU is the NBD client of the bridge; native AIO applies to files and block devices only. */
    public static String nbdUnixSocket(Path socket, String serial, String targetDev) {
        Document doc = XmlDocuments.empty();
        Element disk = disk(doc, "network");
        Element driver = child(disk, "driver");
        driver.setAttribute("name", "qemu");
        driver.setAttribute("type", "raw");
        driver.setAttribute("cache", "none");
        Element source = child(disk, "source");
        source.setAttribute("protocol", "nbd");
        Element host = child(source, "host");
        host.setAttribute("transport", "unix");
        host.setAttribute("socket", socket.toString());
        finish(disk, serial, targetDev);
        return XmlDocuments.print(disk);
    }

    private static Element disk(Document doc, String type) {
        Element disk = doc.createElement("disk");
        disk.setAttribute("type", type);
        disk.setAttribute("device", "disk");
        doc.appendChild(disk);
        return disk;
    }

    private static void finish(Element disk, String serial, String targetDev) {
        Element target = child(disk, "target");
        target.setAttribute("dev", targetDev);
        target.setAttribute("bus", "virtio");
        child(disk, "serial").setTextContent(serial);
    }

    private static Element child(Element parent, String name) {
        Element e = parent.getOwnerDocument().createElement(name);
        parent.appendChild(e);
        return e;
    }
}
