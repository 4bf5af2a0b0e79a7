package io.basalt.nvmetcp.target;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.netty.buffer.ByteBuf;

/**
 * Data transfer direction of a command, from bits 1:0 of its opcode (of the fabrics command type
 * for fabrics commands), as the NVMe specifications define it.
 */
final class DataDirection {
    static final int NONE = 0;
    static final int HOST_TO_CONTROLLER = 1;
    static final int CONTROLLER_TO_HOST = 2;
    static final int BIDIRECTIONAL = 3;

    private DataDirection() {
    }

    static int of(ByteBuf sqe) {
        int opcode = Sqe.opcode(sqe);
        return (opcode == Opcodes.FABRICS ? Sqe.fctype(sqe) : opcode) & 0x3;
    }
}
