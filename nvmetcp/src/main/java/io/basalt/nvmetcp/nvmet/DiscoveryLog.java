package io.basalt.nvmetcp.nvmet;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The discovery log page: one entry per (subsystem the host may connect to, I/O port). The
 * generation counter is derived from the entries, so it changes whenever they do.
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

    private DiscoveryLog() {
    }

    static void write(ByteBuf out, NvmeTarget target, String hostNqn) {
        int base = out.writerIndex();
        List<Subsystem> subsystems = target.subsystems().stream().filter(s -> s.admits(hostNqn)).toList();
        List<NvmeTarget.BoundPort> ports = target.ioPorts();
        int records = subsystems.size() * ports.size();
        out.writeZero(HEADER_SIZE + records * ENTRY_SIZE);
        int entry = base + HEADER_SIZE;
        for (Subsystem subsystem : subsystems) {
            for (NvmeTarget.BoundPort port : ports) {
                out.setByte(entry, TRTYPE_TCP);
                out.setByte(entry + 1, port.advertisedAddress().contains(":") ? ADRFAM_IPV6 : ADRFAM_IPV4);
                out.setByte(entry + 2, SUBTYPE_NVME);
                out.setByte(entry + 3, TREQ_SECURE_CHANNEL_NOT_REQUIRED);
                out.setShortLE(entry + 4, port.id());
                out.setShortLE(entry + 6, DYNAMIC_CONTROLLER);
                out.setShortLE(entry + 8, TargetQueue.ADMIN_QUEUE_SIZE);
                ascii(out, entry + 32, 32, Integer.toString(port.port()));
                IdentifyData.nqn(out, entry + 256, subsystem.nqn());
                ascii(out, entry + 512, 256, port.advertisedAddress());
                out.setByte(entry + 768, SECTYPE_NONE);
                entry += ENTRY_SIZE;
            }
        }
        CRC32 generation = new CRC32();
        generation.update(out.nioBuffer(base + HEADER_SIZE, records * ENTRY_SIZE));
        out.setLongLE(base, generation.getValue() + 1);
        out.setLongLE(base + 8, records);
        out.setShortLE(base + 16, 0); // record format 0
    }

    /** Null-padded ASCII (the entry is already zeroed), as Linux's target fills TRSVCID and TRADDR. */
    private static void ascii(ByteBuf out, int index, int length, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
        out.setBytes(index, bytes, 0, Math.min(bytes.length, length));
    }
}
