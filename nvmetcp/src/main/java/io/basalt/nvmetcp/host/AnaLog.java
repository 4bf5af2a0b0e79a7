package io.basalt.nvmetcp.host;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * The Asymmetric Namespace Access log (LID 0Ch) as one controller, that is one path, reports it.
 *
 * @param changeCount the log's ANA change count
 * @param groups      one descriptor per ANA group
 */
public record AnaLog(long changeCount, List<Group> groups) {
    public static final int HEADER_SIZE = 16;
    public static final int DESCRIPTOR_SIZE = 32;
    public static final int OPTIMIZED = 0x01;
    public static final int NON_OPTIMIZED = 0x02;
    public static final int INACCESSIBLE = 0x03;
    public static final int CHANGE = 0x0F;

    /**
     * @param anaGroup    the ANA group ID
     * @param changeCount the change count when the group last changed
     * @param state       the group's ANA state through this controller
     * @param nsids       the group's namespaces (empty when only groups were asked for)
     */
    public record Group(int anaGroup, long changeCount, int state, int[] nsids) {
    }

    /**
     * Parses a log; fails on a descriptor or NSID list that runs past the data, as a host must not
     * trust counts it was sent.
     */
    public static AnaLog parse(ByteBuf log) {
        int b = log.readerIndex();
        int end = log.writerIndex();
        if (end - b < HEADER_SIZE) {
            throw new IllegalArgumentException("ANA log shorter than its header");
        }
        int count = log.getUnsignedShortLE(b + 8);
        List<Group> groups = new ArrayList<>(count);
        int at = b + HEADER_SIZE;
        for (int i = 0; i < count; i++) {
            if (end - at < DESCRIPTOR_SIZE) {
                throw new IllegalArgumentException("ANA group descriptor " + i + " runs past the log");
            }
            long nsidCount = Integer.toUnsignedLong(log.getIntLE(at + 4));
            if (nsidCount > (end - at - DESCRIPTOR_SIZE) / 4) {
                throw new IllegalArgumentException("ANA group descriptor " + i + " lists more NSIDs than the log holds");
            }
            int[] nsids = new int[(int) nsidCount];
            for (int n = 0; n < nsids.length; n++) {
                nsids[n] = log.getIntLE(at + DESCRIPTOR_SIZE + 4 * n);
            }
            groups.add(new Group(log.getIntLE(at), log.getLongLE(at + 8), log.getUnsignedByte(at + 16) & 0xF, nsids));
            at += DESCRIPTOR_SIZE + 4 * nsids.length;
        }
        return new AnaLog(log.getLongLE(b), List.copyOf(groups));
    }

    /** The descriptor of {@code anaGroup}, or null when the log has none. */
    public Group group(int anaGroup) {
        return groups.stream().filter(g -> g.anaGroup() == anaGroup).findFirst().orElse(null);
    }
}
