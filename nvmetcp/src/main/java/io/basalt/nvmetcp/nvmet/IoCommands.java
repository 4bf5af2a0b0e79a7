package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.stats.PerThreadCounters;
import io.netty.buffer.ByteBuf;

/** NVM command set I/O commands, checked and handed to the namespace's block device. */
final class IoCommands {
    static final int DSM_RANGE_SIZE = 16;
    private static final int DSM_ATTRIBUTE_DEALLOCATE = 1 << 2;

    private IoCommands() {
    }

    static void execute(Request req, Controller ctrl) {
        ByteBuf sqe = req.sqe;
        int opcode = Sqe.opcode(sqe);
        Namespace ns = ctrl.subsystem().visibleNamespace(Sqe.nsid(sqe), ctrl.hostNqn());
        if (ns == null) {
            req.complete(Status.INVALID_NAMESPACE | Status.DNR);
            return;
        }
        AnaState path = ctrl.anaStates().state(ns.anaGroup());
        if (!path.servesIo()) {
            req.complete(path.ioStatus());
            return;
        }
        req.namespace = ns;
        BlockDevice device = ns.device();
        switch (opcode) {
            case Opcodes.IO_READ, Opcodes.IO_WRITE -> readWrite(req, ctrl, device, opcode == Opcodes.IO_WRITE);
            case Opcodes.IO_FLUSH -> device.flush(req);
            case Opcodes.IO_WRITE_ZEROES -> {
                long slba = Sqe.slba(sqe);
                int nlb = Sqe.nlb(sqe);
                if (outOfRange(device, slba, nlb)) {
                    req.complete(Status.LBA_OUT_OF_RANGE | Status.DNR);
                } else {
                    device.writeZeroes(slba, nlb, req);
                }
            }
            case Opcodes.IO_DATASET_MANAGEMENT -> datasetManagement(req, device);
            default -> req.complete(Status.INVALID_OPCODE | Status.DNR);
        }
    }

    private static void readWrite(Request req, Controller ctrl, BlockDevice device, boolean write) {
        long slba = Sqe.slba(req.sqe);
        int nlb = Sqe.nlb(req.sqe);
        if (outOfRange(device, slba, nlb)) {
            req.complete(Status.LBA_OUT_OF_RANGE | Status.DNR);
            return;
        }
        long bytes = (long) nlb * device.blockSize();
        if (req.data == null || req.transferLength != bytes) {
            req.complete(Status.SGL_DATA_LENGTH_INVALID | Status.DNR);
            return;
        }
        long[] counts = ctrl.io.stripe();
        if (write) {
            PerThreadCounters.add(counts, Controller.WRITE_COMMANDS, 1);
            PerThreadCounters.add(counts, Controller.BLOCKS_WRITTEN, bytes >> 9);
            device.write(slba, nlb, req.data, Sqe.fua(req.sqe) || !ctrl.volatileWriteCache(), req);
        } else {
            PerThreadCounters.add(counts, Controller.READ_COMMANDS, 1);
            PerThreadCounters.add(counts, Controller.BLOCKS_READ, bytes >> 9);
            device.read(slba, nlb, req.data, req);
        }
    }

    static boolean outOfRange(BlockDevice device, long slba, long nlb) {
        return slba < 0 || slba + nlb > device.blockCount() || slba + nlb < slba;
    }

    private static void datasetManagement(Request req, BlockDevice device) {
        int ranges = (req.sqe.getIntLE(Sqe.CDW10) & 0xFF) + 1;
        boolean deallocate = (req.sqe.getIntLE(Sqe.CDW11) & DSM_ATTRIBUTE_DEALLOCATE) != 0;
        if (req.data == null || req.transferLength < ranges * DSM_RANGE_SIZE) {
            req.complete(Status.SGL_DATA_LENGTH_INVALID | Status.DNR);
            return;
        }
        ByteBuf list = req.data;
        for (int i = 0; i < ranges; i++) {
            long nlb = Integer.toUnsignedLong(list.getIntLE(list.readerIndex() + i * DSM_RANGE_SIZE + 4));
            long slba = list.getLongLE(list.readerIndex() + i * DSM_RANGE_SIZE + 8);
            if (outOfRange(device, slba, nlb)) {
                req.complete(Status.LBA_OUT_OF_RANGE | Status.DNR);
                return;
            }
        }
        if (!deallocate) {
            req.complete(Status.SUCCESS); // only access hints, which need no action
            return;
        }
        new DeallocateRanges(req, device, ranges).next(Status.SUCCESS);
    }

    /**
     * Deallocates the ranges of one Dataset Management command one after another. A range's NLB is
     * 32 bits unsigned, more than a device call takes: large ranges go in pieces.
     */
    private static final class DeallocateRanges implements IoCallback {
        private static final int MAX_BLOCKS_PER_CALL = 1 << 30;
        private final Request req;
        private final BlockDevice device;
        private final int ranges;
        private int done;
        private long lba;
        private long remaining;

        DeallocateRanges(Request req, BlockDevice device, int ranges) {
            this.req = req;
            this.device = device;
            this.ranges = ranges;
        }

        @Override
        public void complete(int status) {
            next(status);
        }

        void next(int status) {
            while (Status.isSuccess(status) && (remaining > 0 || done < ranges)) {
                if (remaining == 0) {
                    ByteBuf list = req.data;
                    int entry = list.readerIndex() + done++ * DSM_RANGE_SIZE;
                    remaining = Integer.toUnsignedLong(list.getIntLE(entry + 4));
                    lba = list.getLongLE(entry + 8);
                    continue;
                }
                int blocks = (int) Math.min(remaining, MAX_BLOCKS_PER_CALL);
                long at = lba;
                lba += blocks;
                remaining -= blocks;
                device.deallocate(at, blocks, this);
                return;
            }
            req.complete(status);
        }
    }
}
