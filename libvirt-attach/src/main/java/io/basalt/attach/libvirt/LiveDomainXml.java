package io.basalt.attach.libvirt;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/** The disks a running domain has right now, as its live XML lists them. */
public final class LiveDomainXml {
    private final Document doc;

    private LiveDomainXml(Document doc) {
        this.doc = doc;
    }

    public static LiveDomainXml parse(String xml) {
        return new LiveDomainXml(XmlDocuments.parse(xml));
    }

    /** The {@code <disk>} element whose serial is that, printed so it can be handed back to libvirt for detaching. */
    public Optional<String> diskWithSerial(String serial) {
        NodeList disks = doc.getElementsByTagName("disk");
        for (int i = 0; i < disks.getLength(); i++) {
            Element disk = (Element) disks.item(i);
            NodeList serials = disk.getElementsByTagName("serial");
            if (serials.getLength() > 0 && serials.item(0).getTextContent().trim().equals(serial)) {
                return Optional.of(XmlDocuments.print(disk));
            }
        }
        return Optional.empty();
    }

    /** The first virtio disk name (vda, vdb, ... vdz, vdaa, ...) no disk of the domain uses. */
    public String unusedVirtioTargetDev() {
        Set<String> used = new HashSet<>();
        NodeList targets = doc.getElementsByTagName("target");
        for (int i = 0; i < targets.getLength(); i++) {
            used.add(((Element) targets.item(i)).getAttribute("dev"));
        }
        for (int index = 0; ; index++) {
            String name = "vd" + driveLetters(index);
            if (!used.contains(name)) {
                return name;
            }
        }
    }

    /** libvirt's disk suffixes: a..z, then aa..zz, like spreadsheet columns. */
    private static String driveLetters(int index) {
        StringBuilder s = new StringBuilder();
        for (int i = index; i >= 0; i = i / 26 - 1) {
            s.insert(0, (char) ('a' + i % 26));
        }
        return s.toString();
    }
}
