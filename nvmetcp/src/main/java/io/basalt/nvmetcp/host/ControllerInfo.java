package io.basalt.nvmetcp.host;

import io.netty.buffer.ByteBuf;

/**
 * The Identify Controller fields a host acts on (NVMe Base and NVMe over Fabrics layouts).
 *
 * @param mdts           maximum data transfer size as a power of two of the minimum page size (4 KiB); 0: no limit
 * @param oaes           optional asynchronous events supported
 * @param controllerType 1 I/O, 2 discovery, 3 administrative
 * @param nn             number of namespaces (the highest NSID)
 * @param oncs           optional NVM commands supported
 * @param ioccsz         I/O queue command capsule size in 16-byte units (64 bytes of entry plus in-capsule data)
 * @param iorcsz         I/O queue response capsule size in 16-byte units
 * @param cmic           multi-path I/O and namespace sharing capabilities (bit 3: ANA reporting)
 * @param anacap         ANA states the controller reports (bit 0 optimized ... bit 4 change)
 * @param nanagrpid      number of ANA group IDs: the most descriptors an ANA log holds
 */
public record ControllerInfo(String serial, String model, String firmware, int cntlid, int version, int mdts,
                             int oaes, int controllerType, int aerl, int kas, int maxcmd, int nn, int oncs,
                             boolean volatileWriteCache, int sgls, String subnqn, int ioccsz, int iorcsz, int msdbd,
                             int cmic, int anatt, int anacap, int anagrpmax, int nanagrpid) {
    public static final int TYPE_IO = 1;
    public static final int TYPE_DISCOVERY = 2;
    private static final int MIN_PAGE = 4096;

    public static ControllerInfo parse(ByteBuf id) {
        int b = id.readerIndex();
        return new ControllerInfo(
                IdentifyFields.text(id, b + 4, 20),
                IdentifyFields.text(id, b + 24, 40),
                IdentifyFields.text(id, b + 64, 8),
                id.getUnsignedShortLE(b + 78),
                id.getIntLE(b + 80),
                id.getUnsignedByte(b + 77),
                id.getIntLE(b + 92),
                id.getUnsignedByte(b + 111),
                id.getUnsignedByte(b + 259),
                id.getUnsignedShortLE(b + 320),
                id.getUnsignedShortLE(b + 514),
                id.getIntLE(b + 516),
                id.getUnsignedShortLE(b + 520),
                (id.getByte(b + 525) & 1) != 0,
                id.getIntLE(b + 536),
                IdentifyFields.text(id, b + 768, 256),
                id.getIntLE(b + 1792),
                id.getIntLE(b + 1796),
                id.getUnsignedByte(b + 1803),
                id.getUnsignedByte(b + 76),
                id.getUnsignedByte(b + 342),
                id.getUnsignedByte(b + 343),
                id.getIntLE(b + 344),
                id.getIntLE(b + 348));
    }

    public boolean isDiscovery() {
        return controllerType == TYPE_DISCOVERY;
    }

    /** Largest transfer of one command in bytes, or {@link Long#MAX_VALUE} when the controller sets no limit. */
    public long maxTransferBytes() {
        return mdts == 0 ? Long.MAX_VALUE : (long) MIN_PAGE << mdts;
    }

    /** Bytes of the largest ANA log: its header, every group's descriptor and every NSID once. */
    public int anaLogMaxBytes() {
        return AnaLog.HEADER_SIZE + nanagrpid * AnaLog.DESCRIPTOR_SIZE + nn * 4;
    }

    /** Write data that may travel inside a command capsule on an I/O queue. */
    public int inCapsuleDataSize() {
        return Math.max(0, ioccsz * 16 - 64);
    }
}
