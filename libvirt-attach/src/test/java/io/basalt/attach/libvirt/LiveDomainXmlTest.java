package io.basalt.attach.libvirt;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LiveDomainXmlTest {
    private static final String DOMAIN = """
            <domain type='qemu' id='3'>
              <name>guest</name>
              <devices>
                <disk type='file' device='disk'>
                  <source file='/var/lib/libvirt/images/root.qcow2'/>
                  <target dev='vda' bus='virtio'/>
                </disk>
                <disk type='network' device='disk'>
                  <source protocol='nbd'><host transport='unix' socket='/run/x.sock'/></source>
                  <target dev='vdc' bus='virtio'/>
                  <serial>vol-7</serial>
                </disk>
                <disk type='file' device='cdrom'>
                  <target dev='sda' bus='sata'/>
                </disk>
              </devices>
            </domain>""";

    @Test
    void findsTheDiskBySerial() {
        LiveDomainXml live = LiveDomainXml.parse(DOMAIN);
        String disk = live.diskWithSerial("vol-7").orElseThrow();
        assertTrue(disk.contains("/run/x.sock"), disk);
        assertTrue(live.diskWithSerial("vol-8").isEmpty());
        assertTrue(live.diskWithSerial("vol").isEmpty());
    }

    @Test
    void picksTheFirstTargetNameNoDiskUses() {
        assertEquals("vdb", LiveDomainXml.parse(DOMAIN).unusedVirtioTargetDev());
    }

    @Test
    void targetNamesGoOnPastZ() {
        StringBuilder disks = new StringBuilder();
        for (char c = 'a'; c <= 'z'; c++) {
            disks.append("<disk><target dev='vd").append(c).append("'/></disk>");
        }
        assertEquals("vdaa", LiveDomainXml.parse("<domain><devices>" + disks + "</devices></domain>").unusedVirtioTargetDev());
    }

    @Test
    void aDiskItGeneratedIsFoundBySerial() {
        String disk = DiskXml.blockDevice(Path.of("/dev/nvme1n2"), "vol-9", "vdb");
        LiveDomainXml live = LiveDomainXml.parse("<domain><devices>" + disk + "</devices></domain>");
        assertTrue(live.diskWithSerial("vol-9").isPresent());
        assertEquals("vda", live.unusedVirtioTargetDev());
    }
}
