package io.basalt.nvmetcp.host;

import io.netty.buffer.ByteBuf;

/**
 * The Identify Namespace fields a host acts on. An NSID the controller does not show this host
 * identifies as all zeros: {@link #isActive()} is false.
 *
 * @param nsze   size in logical blocks
 * @param lbads  the block size of the format in use, as a power of two
 * @param dlfeat deallocate logical block features (bits 2:0 = 001b: deallocated blocks read zeros)
 * @param nguid  namespace globally unique identifier (16 bytes)
 */
public record NamespaceInfo(int nsid, long nsze, long ncap, long nuse, int flbas, int nmic, int dlfeat,
                            int anagrpid, int lbads, byte[] nguid, byte[] eui64) {

    public static NamespaceInfo parse(int nsid, ByteBuf id) {
        int b = id.readerIndex();
        int flbas = id.getUnsignedByte(b + 26);
        int format = b + 128 + 4 * (flbas & 0xF);
        return new NamespaceInfo(nsid, id.getLongLE(b), id.getLongLE(b + 8), id.getLongLE(b + 16), flbas,
                id.getUnsignedByte(b + 30), id.getUnsignedByte(b + 33), id.getIntLE(b + 92),
                id.getUnsignedByte(format + 2), IdentifyFields.bytes(id, b + 104, 16), IdentifyFields.bytes(id, b + 120, 8));
    }

    public boolean isActive() {
        return nsze != 0;
    }

    public int blockSize() {
        return 1 << lbads;
    }

    public long sizeBytes() {
        return nsze << lbads;
    }
}
