package io.basalt.nvmetcp.nvmet;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The discovery log page: one entry per (subsystem the host may connect to, I/O port), then the
 * portals of subsystems other targets serve that the host may see. The generation counter is
 * derived from the entries, so it changes whenever they do.
 */
final class DiscoveryLog {
    static final int HEADER_SIZE = 1024;
    static final int ENTRY_SIZE = 1024;
    private static final int TRTYPE_TCP = 3;
    private static final int ADRFAM_IPV4 = 1;
    private static final int ADRFAM_IPV6 = 2;
    private static final int SUBTYPE_NVME = 2;
    private static final int TREQ_SECURE_CHANNEL_NOT_REQUIRED = 0x2;
    private static final int DYNAMIC_CONTROLLER = 0xFFFF;
    private static final int SECTYPE_NONE = 0;
    /** Entries listed at most (1 MiB of log): a cluster's portals are far fewer. */
    static final int MAX_ENTRIES = 1023;

    private DiscoveryLog() {
    }

    static void write(ByteBuf out, NvmeTarget target, String hostNqn) {
        List<Entry> entries = entries(target, hostNqn);
        int base = out.writerIndex();
        int records = entries.size();
        out.writeZero(HEADER_SIZE + records * ENTRY_SIZE);
        int at = base + HEADER_SIZE;
        for (Entry e : entries) {
            out.setByte(at, TRTYPE_TCP);
            out.setByte(at + 1, e.address().contains(":") ? ADRFAM_IPV6 : ADRFAM_IPV4);
            out.setByte(at + 2, SUBTYPE_NVME);
            out.setByte(at + 3, TREQ_SECURE_CHANNEL_NOT_REQUIRED);
            out.setShortLE(at + 4, e.portId());
            out.setShortLE(at + 6, DYNAMIC_CONTROLLER);
            out.setShortLE(at + 8, TargetQueue.ADMIN_QUEUE_SIZE);
            ascii(out, at + 32, 32, Integer.toString(e.port()));
            IdentifyData.nqn(out, at + 256, e.subnqn());
            ascii(out, at + 512, 256, e.address());
            out.setByte(at + 768, SECTYPE_NONE);
            at += ENTRY_SIZE;
        }
        CRC32 generation = new CRC32();
        generation.update(out.nioBuffer(base + HEADER_SIZE, records * ENTRY_SIZE));
        out.setLongLE(base, generation.getValue() + 1);
        out.setLongLE(base + 8, records);
        out.setShortLE(base + 16, 0); // record format 0
    }

    /** One discovery log entry: a subsystem at an address, under a port ID. */
    private record Entry(String subnqn, String address, int port, int portId) {
    }

    /**
     * This target's subsystems the host may connect to, at each I/O port, then the subsystems served
     * elsewhere that the target was told of, each (subsystem, address, port) once and at most
     * {@link #MAX_ENTRIES} in all. Portals served elsewhere have no port ID here: they are numbered
     * after this target's ports, in the order given.
     */
    private static List<Entry> entries(NvmeTarget target, String hostNqn) {
        List<NvmeTarget.BoundPort> ports = target.ioPorts();
        Map<SubsystemPortal, Entry> entries = new LinkedHashMap<>();
        for (Subsystem subsystem : target.subsystems()) {
            if (subsystem.admits(hostNqn)) {
                for (NvmeTarget.BoundPort port : ports) {
                    entries.putIfAbsent(new SubsystemPortal(subsystem.nqn(), port.advertisedAddress(), port.port()),
                            new Entry(subsystem.nqn(), port.advertisedAddress(), port.port(), port.id()));
                }
            }
        }
        int nextPortId = ports.stream().mapToInt(NvmeTarget.BoundPort::id).max().orElse(0) + 1;
        for (SubsystemPortal other : target.otherPortals(hostNqn)) {
            if (entries.size() >= MAX_ENTRIES) {
                break;
            }
            if (!entries.containsKey(other)) {
                entries.put(other, new Entry(other.subnqn(), other.address(), other.port(), nextPortId++));
            }
        }
        return entries.values().stream().limit(MAX_ENTRIES).toList();
    }

    /** Null-padded ASCII (the entry is already zeroed), as Linux's target fills TRSVCID and TRADDR. */
    private static void ascii(ByteBuf out, int index, int length, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
        out.setBytes(index, bytes, 0, Math.min(bytes.length, length));
    }
}
