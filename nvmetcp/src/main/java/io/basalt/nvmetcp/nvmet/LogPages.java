package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Get Log Page: decoding the request (page, offset, length, retain-event bit) and copying the
 * requested window of a page. Pages are built whole, then windowed; they are small.
 */
final class LogPages {
    static final int ERROR_ENTRY_SIZE = 64;
    static final int SMART_SIZE = 512;
    static final int FIRMWARE_SIZE = 512;
    static final int CHANGED_NAMESPACES_SIZE = 4096;
    static final int ANA_HEADER_SIZE = 16;
    static final int ANA_DESCRIPTOR_SIZE = 32;
    /** The longest ANA log: every group's descriptor and every NSID once, what a host allocates for it. */
    static final int ANA_MAX_SIZE = ANA_HEADER_SIZE + Namespace.MAX_ANA_GROUP * ANA_DESCRIPTOR_SIZE
            + Subsystem.MAX_NAMESPACES * 4;
    /** Get Log Page CDW14 bit 23 (OT): the offset is an index of entries, which no page here supports. */
    private static final int OFFSET_TYPE_INDEX = 1 << 23;

    private LogPages() {
    }

    static int pageId(Request req) {
        return req.sqe.getUnsignedByte(Sqe.CDW10);
    }

    static int specificField(Request req) {
        return (req.sqe.getUnsignedByte(Sqe.CDW10 + 1)) & 0xF;
    }

    static boolean retainEvent(Request req) {
        return (req.sqe.getIntLE(Sqe.CDW10) & (1 << 15)) != 0;
    }

    private static long offset(Request req) {
        return Integer.toUnsignedLong(req.sqe.getIntLE(Sqe.CDW12)) | (long) req.sqe.getIntLE(Sqe.CDW13) << 32;
    }

    private static long length(Request req) {
        long numdl = req.sqe.getUnsignedShortLE(Sqe.CDW10 + 2);
        long numdu = req.sqe.getUnsignedShortLE(Sqe.CDW11);
        return ((numdu << 16 | numdl) + 1) * 4;
    }

    /** Builds a page with {@code writer} and completes the request with the window it asked for. */
    static void respond(Request req, ByteBufAllocator alloc, Consumer<ByteBuf> writer) {
        respond(req, alloc, writer, 0);
    }

    /**
     * Like {@link #respond(Request, ByteBufAllocator, Consumer)} for a page whose length varies up
     * to {@code maxSize}: a host sizes its buffer for the largest page and may read it in pieces
     * (nvme-cli reads 4 KiB at a time), so offsets up to {@code maxSize} are answered, with zeros
     * past the page's current end.
     */
    static void respond(Request req, ByteBufAllocator alloc, Consumer<ByteBuf> writer, int maxSize) {
        long offset = offset(req);
        long length = length(req);
        boolean indexOffset = (req.sqe.getIntLE(Sqe.CDW14) & OFFSET_TYPE_INDEX) != 0;
        if (req.data == null || length != req.transferLength || (offset & 3) != 0 || indexOffset) {
            req.complete(Status.INVALID_FIELD | Status.DNR);
            return;
        }
        ByteBuf page = alloc.heapBuffer();
        try {
            writer.accept(page);
            if (Long.compareUnsigned(offset, Math.max(page.readableBytes(), maxSize)) > 0) { // LPOU bit 31 is not a sign
                req.complete(Status.INVALID_FIELD | Status.DNR);
                return;
            }
            int available = (int) Math.min(length, page.readableBytes() - offset);
            if (available > 0) {
                req.data.writeBytes(page, (int) offset, available); // the queue sends zeros for the rest
            }
        } finally {
            page.release();
        }
        req.complete(Status.SUCCESS);
    }

    static void error(ByteBuf out) {
        out.writeZero(ERROR_ENTRY_SIZE);
    }

    static void smart(ByteBuf out, Controller ctrl) {
        int base = out.writerIndex();
        out.writeZero(SMART_SIZE);
        out.setShortLE(base + 1, 273 + 30); // composite temperature in kelvin: storage software has none
        out.setByte(base + 3, 100); // available spare
        out.setByte(base + 4, 10); // available spare threshold
        // Data units are thousands of 512-byte units, rounded up
        out.setLongLE(base + 32, (ctrl.io.sum(Controller.BLOCKS_READ) + 999) / 1000);
        out.setLongLE(base + 48, (ctrl.io.sum(Controller.BLOCKS_WRITTEN) + 999) / 1000);
        out.setLongLE(base + 64, ctrl.io.sum(Controller.READ_COMMANDS));
        out.setLongLE(base + 80, ctrl.io.sum(Controller.WRITE_COMMANDS));
    }

    static void firmware(ByteBuf out) {
        int base = out.writerIndex();
        out.writeZero(FIRMWARE_SIZE);
        out.setByte(base, 1); // active slot 1
        IdentifyData.ascii(out, base + 8, 8, IdentifyData.FIRMWARE_REVISION);
    }

    static void changedNamespaces(ByteBuf out, int[] nsids) {
        int base = out.writerIndex();
        out.writeZero(CHANGED_NAMESPACES_SIZE);
        for (int i = 0; i < nsids.length && i < CHANGED_NAMESPACES_SIZE / 4; i++) {
            out.setIntLE(base + 4 * i, nsids[i]);
        }
    }

    /**
     * ANA log as seen through one port: a descriptor for each ANA group holding a namespace the host
     * sees, ascending, with its state on that port and the NSIDs it holds (none when {@code groupsOnly},
     * the RGO bit).
     *
     * @param namespaces the host's visible namespaces, by ascending NSID
     */
    static void asymmetricNamespaceAccess(ByteBuf out, List<Namespace> namespaces, AnaGroupStates states,
                                          long changeCount, boolean groupsOnly) {
        SortedMap<Integer, List<Integer>> groups = new TreeMap<>();
        for (Namespace ns : namespaces) {
            groups.computeIfAbsent(ns.anaGroup(), g -> new ArrayList<>()).add(ns.nsid());
        }
        out.writeLongLE(changeCount);
        out.writeShortLE(groups.size());
        out.writeZero(6);
        for (Map.Entry<Integer, List<Integer>> group : groups.entrySet()) {
            int anaGroup = group.getKey();
            List<Integer> nsids = groupsOnly ? List.of() : group.getValue();
            out.writeIntLE(anaGroup);
            out.writeIntLE(nsids.size());
            out.writeLongLE(states.changeCount(anaGroup));
            out.writeByte(states.state(anaGroup).code());
            out.writeZero(15);
            nsids.forEach(out::writeIntLE);
        }
    }
}
