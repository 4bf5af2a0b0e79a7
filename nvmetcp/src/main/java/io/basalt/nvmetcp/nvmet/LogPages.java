package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

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
    static final int ANA_STATE_OPTIMIZED = 0x01;

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
        long offset = offset(req);
        long length = length(req);
        if (req.data == null || length != req.transferLength || (offset & 3) != 0) {
            req.complete(Status.INVALID_FIELD | Status.DNR);
            return;
        }
        ByteBuf page = alloc.heapBuffer();
        try {
            writer.accept(page);
            if (Long.compareUnsigned(offset, page.readableBytes()) > 0) { // LPOU bit 31 is not a sign
                req.complete(Status.INVALID_FIELD | Status.DNR);
                return;
            }
            int available = (int) Math.min(length, page.readableBytes() - offset);
            req.data.writeBytes(page, (int) offset, available);
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

    /** ANA log: one group holding every namespace the host sees, optimized on this node. */
    static void asymmetricNamespaceAccess(ByteBuf out, int[] nsids, boolean groupsOnly) {
        out.writeLongLE(0); // change count
        out.writeShortLE(IdentifyData.ANA_GROUPS);
        out.writeZero(6);
        out.writeIntLE(Namespace.DEFAULT_ANA_GROUP);
        out.writeIntLE(groupsOnly ? 0 : nsids.length);
        out.writeLongLE(0); // change count
        out.writeByte(ANA_STATE_OPTIMIZED);
        out.writeZero(15);
        if (!groupsOnly) {
            for (int nsid : nsids) {
                out.writeIntLE(nsid);
            }
        }
    }
}
