package io.basalt.nvmetcp.host;

import io.netty.buffer.ByteBuf;

/**
 * One entry of the discovery log page (70h): a subsystem and the port to reach it on.
 *
 * @param trtype  transport type (3: TCP)
 * @param adrfam  address family (1: IPv4, 2: IPv6)
 * @param subtype subsystem type (2: NVM subsystem, 3: current discovery subsystem)
 * @param treq    transport requirements
 * @param cntlid  controller ID, 0xFFFF for the dynamic controller model
 * @param asqsz   largest admin queue the controller accepts
 * @param trsvcid the transport service identifier: the TCP port
 */
public record DiscoveryLogEntry(int trtype, int adrfam, int subtype, int treq, int portId, int cntlid, int asqsz,
                                String trsvcid, String subnqn, String traddr) {
    public static final int HEADER_SIZE = 1024;
    public static final int SIZE = 1024;

    public static DiscoveryLogEntry parse(ByteBuf page, int index) {
        return new DiscoveryLogEntry(page.getUnsignedByte(index), page.getUnsignedByte(index + 1),
                page.getUnsignedByte(index + 2), page.getUnsignedByte(index + 3), page.getUnsignedShortLE(index + 4),
                page.getUnsignedShortLE(index + 6), page.getUnsignedShortLE(index + 8),
                IdentifyFields.text(page, index + 32, 32), IdentifyFields.text(page, index + 256, 256),
                IdentifyFields.text(page, index + 512, 256));
    }

    /** The port to connect to, from {@link #trsvcid}. */
    public int port() {
        return Integer.parseInt(trsvcid);
    }
}
