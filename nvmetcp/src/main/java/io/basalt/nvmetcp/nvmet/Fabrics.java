package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Nqn;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Fabrics commands: Connect, Property Get, Property Set, Disconnect, Authentication Send and Receive
 * (NVMe over Fabrics specification).
 */
final class Fabrics {
    private static final Logger log = LoggerFactory.getLogger(Fabrics.class);

    static final int CONNECT_DATA_LENGTH = 1024;
    private static final int CONNECT_RECFMT = Sqe.CDW10;
    private static final int CONNECT_QID = Sqe.CDW10 + 2;
    private static final int CONNECT_SQSIZE = Sqe.CDW11;
    private static final int CONNECT_CATTR = Sqe.CDW11 + 2;
    private static final int CONNECT_KATO = Sqe.CDW12;
    private static final int CATTR_DISABLE_SQ_FLOW_CONTROL = 1 << 2;
    private static final int DATA_HOSTID = 0;
    private static final int DATA_CNTLID = 16;
    private static final int DATA_SUBNQN = 256;
    private static final int DATA_HOSTNQN = 512;
    private static final int NQN_FIELD = 256;
    /** IATTR bit 0 of a Connect Invalid Parameters result: the offset is in the connect data, not the SQE. */
    private static final int INVALID_IN_DATA = 1 << 16;

    private Fabrics() {
    }

    static void execute(Request req, NvmeTarget target) {
        ByteBuf sqe = req.sqe;
        int fctype = Sqe.fctype(sqe);
        Controller ctrl = req.queue.controller();
        if (fctype == Opcodes.FCTYPE_CONNECT) {
            if (ctrl != null) {
                req.complete(Status.COMMAND_SEQUENCE_ERROR | Status.DNR);
            } else {
                connect(req, target);
            }
            return;
        }
        if (ctrl == null) {
            req.complete(Status.COMMAND_SEQUENCE_ERROR | Status.DNR);
            return;
        }
        if (fctype == Opcodes.FCTYPE_AUTHENTICATION_SEND) {
            Authentication.send(req, ctrl, target);
            return;
        }
        if (fctype == Opcodes.FCTYPE_AUTHENTICATION_RECEIVE) {
            Authentication.receive(req, ctrl, target);
            return;
        }
        if (!req.queue.isAuthenticated() && fctype != Opcodes.FCTYPE_DISCONNECT) {
            req.complete(Status.AUTHENTICATION_REQUIRED | Status.DNR);
            return;
        }
        if (!belongsOn(fctype, req.queue.isAdmin())) {
            req.complete(Status.INVALID_OPCODE | Status.DNR);
            return;
        }
        switch (fctype) {
            case Opcodes.FCTYPE_PROPERTY_GET -> propertyGet(req, ctrl);
            case Opcodes.FCTYPE_PROPERTY_SET -> propertySet(req, ctrl);
            case Opcodes.FCTYPE_DISCONNECT -> {
                req.complete(Status.SUCCESS);
                req.queue.execute(req.queue::close);
            }
            default -> req.complete(Status.INVALID_OPCODE | Status.DNR);
        }
    }

    /**
     * Properties are the admin queue's (NVMe over Fabrics: Property Get/Set are submitted on the
     * Admin Queue; CC is also only touched from that queue's event loop), Disconnect an I/O
     * queue's; elsewhere they are invalid opcodes, as in Linux's target.
     */
    private static boolean belongsOn(int fctype, boolean adminQueue) {
        return switch (fctype) {
            case Opcodes.FCTYPE_PROPERTY_GET, Opcodes.FCTYPE_PROPERTY_SET -> adminQueue;
            case Opcodes.FCTYPE_DISCONNECT -> !adminQueue;
            default -> true;
        };
    }

    private static void connect(Request req, NvmeTarget target) {
        ByteBuf sqe = req.sqe;
        ByteBuf data = req.data;
        int recfmt = sqe.getUnsignedShortLE(CONNECT_RECFMT);
        int qid = sqe.getUnsignedShortLE(CONNECT_QID);
        int queueSize = sqe.getUnsignedShortLE(CONNECT_SQSIZE) + 1;
        int cattr = sqe.getUnsignedByte(CONNECT_CATTR);
        int kato = sqe.getIntLE(CONNECT_KATO);
        if (recfmt != 0) {
            req.complete(Status.CONNECT_INCOMPATIBLE_FORMAT | Status.DNR);
            return;
        }
        if (data == null || data.readableBytes() < CONNECT_DATA_LENGTH) {
            req.complete(Status.SGL_DATA_LENGTH_INVALID | Status.DNR);
            return;
        }
        int ri = data.readerIndex();
        UUID hostId = new UUID(data.getLong(ri + DATA_HOSTID), data.getLong(ri + DATA_HOSTID + 8));
        int cntlid = data.getUnsignedShortLE(ri + DATA_CNTLID);
        String subnqn = nqnField(data, ri + DATA_SUBNQN);
        String hostNqn = nqnField(data, ri + DATA_HOSTNQN);
        boolean sqFlowControlDisabled = (cattr & CATTR_DISABLE_SQ_FLOW_CONTROL) != 0;
        int maxQueueSize = qid == 0 ? TargetQueue.ADMIN_QUEUE_SIZE : target.options().maxQueueSize();
        if (queueSize < 2 || queueSize > maxQueueSize) {
            invalidParameter(req, CONNECT_SQSIZE, false, "queue size " + queueSize + " outside 2.." + maxQueueSize);
            return;
        }
        if (!Nqn.isValid(hostNqn)) {
            invalidParameter(req, DATA_HOSTNQN, true, "malformed host NQN");
            return;
        }
        if (req.queue.discoveryOnly() && !Nqn.DISCOVERY.equals(subnqn)) {
            invalidParameter(req, DATA_SUBNQN, true, "this port serves only the discovery subsystem, not " + subnqn);
            return;
        }
        if (qid == 0) {
            connectAdmin(req, target, subnqn, hostNqn, hostId, kato, queueSize, sqFlowControlDisabled);
        } else {
            connectIo(req, target, qid, cntlid, subnqn, hostNqn, hostId, queueSize, sqFlowControlDisabled);
        }
    }

    private static void connectAdmin(Request req, NvmeTarget target, String subnqn, String hostNqn, UUID hostId,
                                     int kato, int queueSize, boolean sqFlowControlDisabled) {
        Subsystem subsystem = null;
        if (!Nqn.DISCOVERY.equals(subnqn)) {
            subsystem = target.subsystem(subnqn);
            if (subsystem == null) {
                invalidParameter(req, DATA_SUBNQN, true, "no subsystem " + subnqn);
                return;
            }
            if (!subsystem.admits(hostNqn)) {
                log.warn("Host {} from {} refused: no namespace of {} allows it", hostNqn, req.queue.remote(), subnqn);
                req.complete(Status.CONNECT_INVALID_HOST | Status.DNR);
                return;
            }
        }
        Controller ctrl = target.createController(subsystem, hostNqn, hostId, kato, req.queue);
        if (ctrl == null) {
            req.complete(Status.CONNECT_CONTROLLER_BUSY);
            return;
        }
        req.queue.connected(ctrl, 0, queueSize, sqFlowControlDisabled);
        int authreq = subsystem == null ? 0 : Authentication.require(req.queue, target, ctrl);
        log.info("Host {} connected from {}: controller {} of {}, keep alive {} ms{}", hostNqn, req.queue.remote(),
                ctrl.cntlid(), subnqn, kato, authreq != 0 ? ", authentication required" : "");
        req.result(ctrl.cntlid() | authreq);
        req.complete(Status.SUCCESS);
    }

    private static void connectIo(Request req, NvmeTarget target, int qid, int cntlid, String subnqn, String hostNqn,
                                  UUID hostId, int queueSize, boolean sqFlowControlDisabled) {
        Controller ctrl = target.controller(cntlid);
        if (ctrl == null || ctrl.isDiscovery()) {
            invalidParameter(req, DATA_CNTLID, true, "no I/O controller " + cntlid);
            return;
        }
        if (!ctrl.subsystem().nqn().equals(subnqn)) {
            invalidParameter(req, DATA_SUBNQN, true, "controller " + cntlid + " is not of " + subnqn);
            return;
        }
        if (!ctrl.hostNqn().equals(hostNqn) || !ctrl.hostId().equals(hostId)) {
            invalidParameter(req, DATA_HOSTNQN, true, "controller " + cntlid + " belongs to another host");
            return;
        }
        int status = ctrl.attachIoQueue(qid, req.queue);
        if (status != Status.SUCCESS) {
            if (status == Status.CONNECT_INVALID_PARAMETERS) {
                invalidParameter(req, CONNECT_QID, false, "queue " + qid + " not available");
            } else {
                req.complete(status);
            }
            return;
        }
        req.queue.connected(ctrl, qid, queueSize, sqFlowControlDisabled);
        req.result(ctrl.cntlid() | Authentication.require(req.queue, target, ctrl));
        req.complete(Status.SUCCESS);
    }

    /** Connect Invalid Parameters, with the offending field's place in completion dword 0. */
    private static void invalidParameter(Request req, int offset, boolean inData, String why) {
        log.warn("Connect from {} refused: {}", req.queue.remote(), why);
        req.result((inData ? INVALID_IN_DATA : 0) | offset);
        req.complete(Status.CONNECT_INVALID_PARAMETERS | Status.DNR);
    }

    private static String nqnField(ByteBuf data, int index) {
        int end = index;
        while (end < index + NQN_FIELD && data.getByte(end) != 0) {
            end++;
        }
        return data.toString(index, end - index, StandardCharsets.UTF_8);
    }

    private static void propertyGet(Request req, Controller ctrl) {
        boolean eightBytes = (req.sqe.getUnsignedByte(Sqe.CDW10) & 0x7) == 1;
        int offset = req.sqe.getIntLE(Sqe.CDW11);
        Long value = ctrl.property(offset, eightBytes);
        if (value == null) {
            req.complete(Status.INVALID_FIELD | Status.DNR);
            return;
        }
        req.result((int) value.longValue(), (int) (value >>> 32));
        req.complete(Status.SUCCESS);
    }

    private static void propertySet(Request req, Controller ctrl) {
        int offset = req.sqe.getIntLE(Sqe.CDW11);
        long value = req.sqe.getLongLE(Sqe.CDW12);
        req.complete(ctrl.setProperty(offset, value));
    }
}
