package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;

/** Admin commands of a discovery controller: the subset the NVMe-oF specification requires. */
final class DiscoveryCommands {
    private DiscoveryCommands() {
    }

    static void execute(Request req, Controller ctrl) {
        switch (Sqe.opcode(req.sqe)) {
            case Opcodes.ADMIN_IDENTIFY -> {
                if (req.sqe.getUnsignedByte(Sqe.CDW10) != Opcodes.CNS_CONTROLLER) {
                    req.complete(Status.INVALID_FIELD | Status.DNR);
                } else if (!AdminCommands.hasIdentifyBuffer(req)) {
                    req.complete(Status.SGL_DATA_LENGTH_INVALID | Status.DNR);
                } else {
                    IdentifyData.controller(req.data, ctrl, ctrl.target().options());
                    req.complete(Status.SUCCESS);
                }
            }
            case Opcodes.ADMIN_GET_LOG_PAGE -> {
                if (LogPages.pageId(req) != Opcodes.LOG_DISCOVERY) {
                    req.complete(Status.INVALID_LOG_PAGE | Status.DNR);
                } else {
                    LogPages.respond(req, AdminCommands.alloc(req),
                            out -> DiscoveryLog.write(out, ctrl.target(), ctrl.hostNqn()));
                }
            }
            case Opcodes.ADMIN_SET_FEATURES -> Features.set(req, ctrl);
            case Opcodes.ADMIN_GET_FEATURES -> Features.get(req, ctrl);
            case Opcodes.ADMIN_ASYNC_EVENT_REQUEST -> ctrl.asyncEventRequest(req);
            case Opcodes.ADMIN_KEEP_ALIVE -> {
                ctrl.keepAlive();
                req.complete(Status.SUCCESS);
            }
            default -> req.complete(Status.INVALID_OPCODE | Status.DNR);
        }
    }
}
