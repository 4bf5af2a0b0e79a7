package io.basalt.nvmetcp.nvme;

import io.netty.buffer.ByteBuf;

/**
 * Data transfer direction of a command, from bits 1:0 of its opcode (of the fabrics command type
 * for fabrics commands), as the NVMe specifications define it.
 */
public final class DataDirection {
    public static final int NONE = 0;
    public static final int HOST_TO_CONTROLLER = 1;
    public static final int CONTROLLER_TO_HOST = 2;
    public static final int BIDIRECTIONAL = 3;

    private DataDirection() {
    }

    public static int of(int opcode, int fctype) {
        return (opcode == Opcodes.FABRICS ? fctype : opcode) & 0x3;
    }

    /** The direction of the SQE at index 0 of {@code sqe}. */
    public static int of(ByteBuf sqe) {
        return of(Sqe.opcode(sqe), Sqe.fctype(sqe));
    }
}
