package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBufAllocator;

import java.util.List;

/** Admin commands of an I/O controller. */
final class AdminCommands {
    private static final int NSID_BROADCAST = 0xFFFFFFFF;
    private static final int CSI_NVM = 0;
    /** LSP bit 0 of the ANA log: descriptors without their NSID lists. */
    private static final int ANA_LOG_RETURN_GROUPS_ONLY = 1;

    private AdminCommands() {
    }

    static void execute(Request req, Controller ctrl) {
        switch (Sqe.opcode(req.sqe)) {
            case Opcodes.ADMIN_IDENTIFY -> identify(req, ctrl);
            case Opcodes.ADMIN_GET_LOG_PAGE -> getLogPage(req, ctrl);
            case Opcodes.ADMIN_SET_FEATURES -> Features.set(req, ctrl);
            case Opcodes.ADMIN_GET_FEATURES -> Features.get(req, ctrl);
            case Opcodes.ADMIN_ASYNC_EVENT_REQUEST -> ctrl.asyncEventRequest(req);
            case Opcodes.ADMIN_KEEP_ALIVE -> {
                ctrl.keepAlive();
                req.complete(Status.SUCCESS);
            }
            case Opcodes.ADMIN_ABORT -> {
                req.result(1); // the command was not aborted: commands here are not abortable
                req.complete(Status.SUCCESS);
            }
            default -> req.complete(Status.INVALID_OPCODE | Status.DNR);
        }
    }

    /** Whether the identify data fits the transfer the host described. */
    static boolean hasIdentifyBuffer(Request req) {
        return req.data != null && req.transferLength >= IdentifyData.SIZE;
    }

    private static void identify(Request req, Controller ctrl) {
        if (!hasIdentifyBuffer(req)) {
            req.complete(Status.SGL_DATA_LENGTH_INVALID | Status.DNR);
            return;
        }
        int cns = req.sqe.getUnsignedByte(Sqe.CDW10);
        int nsid = Sqe.nsid(req.sqe);
        Subsystem subsystem = ctrl.subsystem();
        switch (cns) {
            case Opcodes.CNS_CONTROLLER -> IdentifyData.controller(req.data, ctrl, ctrl.target().options());
            case Opcodes.CNS_ACTIVE_NAMESPACES -> {
                if (nsid == NSID_BROADCAST || nsid == NSID_BROADCAST - 1) {
                    req.complete(Status.INVALID_NAMESPACE | Status.DNR);
                    return;
                }
                IdentifyData.activeNamespaces(req.data, subsystem.visibleNsids(ctrl.hostNqn()), nsid);
            }
            case Opcodes.CNS_NAMESPACE -> {
                if (nsid == 0 || (nsid != NSID_BROADCAST && Integer.compareUnsigned(nsid, Subsystem.MAX_NAMESPACES) > 0)) {
                    req.complete(Status.INVALID_NAMESPACE | Status.DNR);
                    return;
                }
                Namespace ns = subsystem.visibleNamespace(nsid, ctrl.hostNqn());
                if (ns == null) {
                    req.data.writeZero(IdentifyData.SIZE); // an inactive NSID: a zeroed structure
                } else {
                    IdentifyData.namespace(req.data, ns);
                }
            }
            case Opcodes.CNS_NAMESPACE_DESCRIPTORS -> {
                Namespace ns = subsystem.visibleNamespace(nsid, ctrl.hostNqn());
                if (ns == null) {
                    req.complete(Status.INVALID_NAMESPACE | Status.DNR);
                    return;
                }
                IdentifyData.namespaceDescriptors(req.data, ns);
            }
            case Opcodes.CNS_CSI_CONTROLLER -> {
                int csi = req.sqe.getUnsignedByte(Sqe.CDW11 + 3);
                if (csi != CSI_NVM) {
                    req.complete(Status.INVALID_FIELD | Status.DNR);
                    return;
                }
                req.data.writeZero(IdentifyData.SIZE); // no NVM command set specific limits
            }
            default -> {
                req.complete(Status.INVALID_FIELD | Status.DNR);
                return;
            }
        }
        req.complete(Status.SUCCESS);
    }

    private static void getLogPage(Request req, Controller ctrl) {
        int page = LogPages.pageId(req);
        boolean retain = LogPages.retainEvent(req);
        switch (page) {
            case Opcodes.LOG_ERROR -> LogPages.respond(req, alloc(req), LogPages::error);
            case Opcodes.LOG_SMART -> LogPages.respond(req, alloc(req), out -> LogPages.smart(out, ctrl));
            case Opcodes.LOG_FIRMWARE_SLOT -> LogPages.respond(req, alloc(req), LogPages::firmware);
            case Opcodes.LOG_CHANGED_NAMESPACES -> {
                int[] changed = ctrl.changedNamespaces(retain);
                LogPages.respond(req, alloc(req), out -> LogPages.changedNamespaces(out, changed));
            }
            case Opcodes.LOG_ANA -> {
                boolean groupsOnly = (LogPages.specificField(req) & ANA_LOG_RETURN_GROUPS_ONLY) != 0;
                List<Namespace> visible = ctrl.subsystem().visibleNamespaces(ctrl.hostNqn());
                long changeCount = ctrl.target().anaChangeCount();
                ctrl.anaLogRead(retain);
                LogPages.respond(req, alloc(req), out -> LogPages.asymmetricNamespaceAccess(out, visible,
                        ctrl.anaStates(), changeCount, groupsOnly), LogPages.ANA_MAX_SIZE);
            }
            default -> req.complete(Status.INVALID_LOG_PAGE | Status.DNR);
        }
    }

    static ByteBufAllocator alloc(Request req) {
        return req.queue.channel().alloc();
    }
}
