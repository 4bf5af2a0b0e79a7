package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Nqn;
import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/** Identify data structures (NVMe Base 1.4 / NVMe-oF 1.1 layouts), written into a 4 KiB buffer. */
final class IdentifyData {
    static final int SIZE = 4096;
    static final String FIRMWARE_REVISION = "0.1.0";
    static final int CONTROLLER_TYPE_IO = 1;
    static final int CONTROLLER_TYPE_DISCOVERY = 2;
    static final int ANA_TRANSITION_SECONDS = 10;
    /**
     * ANACAP: the states reported (bit 0 optimized, 1 non-optimized, 2 inaccessible, 4 change; never
     * 3, persistent loss), bit 6 a namespace's ANAGRPID never changes while attached, bit 7 non-zero
     * ANAGRPIDs.
     */
    static final int ANACAP = 0x01 | 0x02 | 0x04 | 0x10 | 0x40 | 0x80;

    private static final int NIDT_NGUID = 2;
    private static final int NIDT_UUID = 3;

    private IdentifyData() {
    }

    /** Identify Controller for an I/O or discovery controller. */
    static void controller(ByteBuf out, Controller ctrl, TargetOptions options) {
        int base = out.writerIndex();
        out.writeZero(SIZE);
        Subsystem subsystem = ctrl.subsystem();
        boolean discovery = subsystem == null;
        // SN with MN names the NVM subsystem: a subsystem served by several targets reports its own.
        ascii(out, base + 4, 20, discovery ? options.serial() : subsystem.serial());
        ascii(out, base + 24, 40, discovery ? "Basalt discovery controller" : subsystem.model());
        ascii(out, base + 64, 8, FIRMWARE_REVISION);
        out.setByte(base + 72, 6); // RAB: recommended arbitration burst
        if (!discovery) {
            // CMIC: multiple ports, multiple controllers, ANA reporting
            out.setByte(base + 76, 0x01 | 0x02 | 0x08);
        }
        out.setByte(base + 77, Integer.numberOfTrailingZeros(options.maxTransferSize() / 4096)); // MDTS
        out.setShortLE(base + 78, ctrl.cntlid());
        out.setIntLE(base + 80, Controller.VERSION_1_3);
        // OAES: namespace attribute and ANA change notices (discovery controllers send no discovery log change notices)
        out.setIntLE(base + 92, discovery ? 0 : Controller.AEC_NAMESPACE_ATTRIBUTE | Controller.AEC_ANA_CHANGE);
        out.setByte(base + 111, discovery ? CONTROLLER_TYPE_DISCOVERY : CONTROLLER_TYPE_IO);
        out.setByte(base + 258, 3); // ACL: abort command limit, zero based
        out.setByte(base + 259, Controller.MAX_ASYNC_EVENT_REQUESTS - 1); // AERL, zero based
        out.setByte(base + 260, 0x03); // FRMW: slot 1 read only, one slot
        out.setByte(base + 261, 0x04); // LPA: extended data for Get Log Page
        out.setShortLE(base + 320, 10); // KAS: keep alive granularity 1 s (100 ms units)
        if (!discovery) {
            out.setByte(base + 342, ANA_TRANSITION_SECONDS); // ANATT
            out.setByte(base + 343, ANACAP);
            out.setIntLE(base + 344, Namespace.MAX_ANA_GROUP); // ANAGRPMAX
            out.setIntLE(base + 348, Namespace.MAX_ANA_GROUP); // NANAGRPID
        }
        out.setByte(base + 512, 0x66); // SQES: 64-byte entries
        out.setByte(base + 513, 0x44); // CQES: 16-byte entries
        out.setShortLE(base + 514, options.maxQueueSize()); // MAXCMD
        if (!discovery) {
            out.setIntLE(base + 516, Subsystem.MAX_NAMESPACES); // NN
            out.setShortLE(base + 520, 0x04 | 0x08); // ONCS: Dataset Management, Write Zeroes
            out.setByte(base + 525, 0x01); // VWC: volatile write cache present
            out.setIntLE(base + 540, Subsystem.MAX_NAMESPACES); // MNAN
        }
        // SGLS: SGLs supported (no alignment), offset addressing for in-capsule data
        out.setIntLE(base + 536, 0x1 | 1 << 20);
        nqn(out, base + 768, discovery ? Nqn.DISCOVERY : subsystem.nqn());
        // Fabrics fields: capsule sizes in 16-byte units, one SGL descriptor
        out.setIntLE(base + 1792, (64 + options.inCapsuleDataSize()) / 16); // IOCCSZ
        out.setIntLE(base + 1796, 1); // IORCSZ
        out.setShortLE(base + 1800, 0); // ICDOFF
        out.setByte(base + 1803, 1); // MSDBD
        out.writerIndex(base + SIZE);
    }

    /** Identify Namespace. */
    static void namespace(ByteBuf out, Namespace ns) {
        int base = out.writerIndex();
        out.writeZero(SIZE);
        BlockDevice device = ns.device();
        long blocks = device.blockCount();
        out.setLongLE(base, blocks); // NSZE
        out.setLongLE(base + 8, blocks); // NCAP
        out.setLongLE(base + 16, blocks); // NUSE
        out.setByte(base + 25, 0); // NLBAF: one format
        out.setByte(base + 26, 0); // FLBAS: format 0
        out.setByte(base + 30, 0x01); // NMIC: may be shared by controllers (multipath)
        out.setByte(base + 33, 0x01 | 0x08); // DLFEAT: deallocated blocks read zeros; Write Zeroes may deallocate
        out.setIntLE(base + 92, ns.anaGroup()); // ANAGRPID
        out.setBytes(base + 104, ns.nguid()); // NGUID
        out.setByte(base + 128 + 2, Integer.numberOfTrailingZeros(device.blockSize())); // LBAF0.LBADS
        out.writerIndex(base + SIZE);
    }

    /** Namespace Identification Descriptor list: NGUID and UUID. */
    static void namespaceDescriptors(ByteBuf out, Namespace ns) {
        int base = out.writerIndex();
        out.writeZero(SIZE);
        out.setByte(base, NIDT_NGUID);
        out.setByte(base + 1, 16);
        out.setBytes(base + 4, ns.nguid());
        out.setByte(base + 20, NIDT_UUID);
        out.setByte(base + 21, 16);
        UUID uuid = ns.uuid();
        out.setLong(base + 24, uuid.getMostSignificantBits());
        out.setLong(base + 32, uuid.getLeastSignificantBits());
        out.writerIndex(base + SIZE);
    }

    /** Active Namespace ID list: NSIDs greater than {@code after}, ascending. */
    static void activeNamespaces(ByteBuf out, int[] nsids, int after) {
        int base = out.writerIndex();
        out.writeZero(SIZE);
        int i = 0;
        for (int nsid : nsids) {
            if (Integer.compareUnsigned(nsid, after) > 0 && i < SIZE / 4) {
                out.setIntLE(base + 4 * i++, nsid);
            }
        }
        out.writerIndex(base + SIZE);
    }

    /** Space-padded ASCII field. */
    static void ascii(ByteBuf out, int index, int length, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < length; i++) {
            out.setByte(index + i, i < bytes.length ? bytes[i] : ' ');
        }
    }

    /** Null-padded UTF-8 NQN field (the buffer is already zeroed). */
    static void nqn(ByteBuf out, int index, String nqn) {
        out.setBytes(index, nqn.getBytes(StandardCharsets.UTF_8));
    }
}
