package io.basalt.attach.libvirt;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.xml.sax.InputSource;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.StringReader;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class DiskXmlTest {
    private static Element parse(String xml) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new InputSource(new StringReader(xml))).getDocumentElement();
    }

    private static Element only(Element parent, String name) {
        assertEquals(1, parent.getElementsByTagName(name).getLength(), name);
        return (Element) parent.getElementsByTagName(name).item(0);
    }

    @Test
    void kernelModeIsABlockDiskOnTheNamespaceDevice() throws Exception {
        Element disk = parse(DiskXml.blockDevice(Path.of("/dev/nvme0n3"), "vol-1", "vdb"));
        assertEquals("disk", disk.getTagName());
        assertEquals("block", disk.getAttribute("type"));
        assertEquals("disk", disk.getAttribute("device"));
        assertEquals("/dev/nvme0n3", only(disk, "source").getAttribute("dev"));
        Element driver = only(disk, "driver");
        assertEquals("qemu", driver.getAttribute("name"));
        assertEquals("raw", driver.getAttribute("type"));
        assertEquals("none", driver.getAttribute("cache"));
        assertEquals("native", driver.getAttribute("io"));
        assertEquals("vdb", only(disk, "target").getAttribute("dev"));
        assertEquals("virtio", only(disk, "target").getAttribute("bus"));
        assertEquals("vol-1", only(disk, "serial").getTextContent());
    }

    @Test
    void userspaceModeIsAnNbdNetworkDiskOnAUnixSocket() throws Exception {
        Element disk = parse(DiskXml.nbdUnixSocket(Path.of("/run/basalt-attach/v@d.sock"), "vol-2", "vdc"));
        assertEquals("network", disk.getAttribute("type"));
        Element source = only(disk, "source");
        assertEquals("nbd", source.getAttribute("protocol"));
        Element host = only(source, "host");
        assertEquals("unix", host.getAttribute("transport"));
        assertEquals("/run/basalt-attach/v@d.sock", host.getAttribute("socket"));
        Element driver = only(disk, "driver");
        assertEquals("none", driver.getAttribute("cache"));
        assertFalse(driver.hasAttribute("io"), "io='native' is for files and block devices only");
        assertEquals("vdc", only(disk, "target").getAttribute("dev"));
        assertEquals("virtio", only(disk, "target").getAttribute("bus"));
        assertEquals("vol-2", only(disk, "serial").getTextContent());
    }

    @Test
    void serialIsEscaped() throws Exception {
        Element disk = parse(DiskXml.blockDevice(Path.of("/dev/nvme0n1"), "a<b&'c\"", "vdb"));
        assertEquals("a<b&'c\"", only(disk, "serial").getTextContent());
    }
}
