package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.auth.AuthMessages;
import io.basalt.nvmetcp.auth.ControllerAuthentication;
import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * In-band authentication on the target (DH-HMAC-CHAP through the Authentication Send and Receive
 * fabrics commands): a queue of a host for which the target holds a secret answers Connect with
 * AUTHREQ.ATR and takes no other command than these (Authentication Required) until the host has
 * proven itself. A failed transaction, or none completed in time, ends the host's controller; each
 * of these, and a queue closed by its host before authenticating, is logged and counted.
 */
final class Authentication {
    private static final Logger log = LoggerFactory.getLogger(Authentication.class);
    /** AUTHREQ of the Connect result: Authentication Transaction Required. */
    static final int CONNECT_AUTHREQ_ATR = 1 << 17;
    private static final int SPSP0 = Sqe.CDW10 + 1;
    private static final int SPSP1 = Sqe.CDW10 + 2;
    private static final int SECP = Sqe.CDW10 + 3;
    /** TL of Authentication Send, AL of Authentication Receive. */
    private static final int LENGTH = Sqe.CDW11;

    private Authentication() {
    }

    /**
     * Called when Connect of a queue to an I/O controller succeeds: if the subsystem has credentials of
     * its own, or else the target holds a secret for the host, the queue now requires authentication
     * within the policy's timeout. Returns the AUTHREQ bits for the Connect result.
     */
    static int require(TargetQueue queue, NvmeTarget target, Controller ctrl) {
        DhchapCredentials own = ctrl.subsystem().ownCredentials(ctrl.hostNqn());
        DhchapCredentials credentials = own != null ? own : target.credentials(ctrl.hostNqn());
        if (credentials == null) {
            return 0;
        }
        ControllerAuthentication auth = new ControllerAuthentication(credentials, target.dhchapPolicy(),
                ctrl.hostNqn(), ctrl.subsystem().nqn(), target.random());
        long timeoutMillis = target.dhchapPolicy().timeout().toMillis();
        queue.requireAuthentication(auth, queue.channel().eventLoop().schedule(() -> {
            if (!auth.authenticated() && queue.channel().isActive()) {
                fail(queue, ctrl, "not authenticated within " + timeoutMillis + " ms", target);
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS), target.authenticationExecutor());
        return CONNECT_AUTHREQ_ATR;
    }

    static void send(Request req, Controller ctrl, NvmeTarget target) {
        ControllerAuthentication auth = checked(req);
        if (auth == null) {
            return;
        }
        int length = req.sqe.getIntLE(LENGTH);
        if (length <= 0 || length > AuthMessages.MAX_MESSAGE_LENGTH) {
            req.complete(Status.INVALID_FIELD | Status.DNR);
            return;
        }
        if (req.data == null || req.transferLength != length || req.data.readableBytes() < length) {
            req.complete(Status.SGL_DATA_LENGTH_INVALID | Status.DNR);
            return;
        }
        byte[] message = new byte[length];
        req.data.getBytes(req.data.readerIndex(), message);
        req.queue.authenticationExecutor().execute(() -> {
            boolean before = auth.authenticated();
            auth.send(message);
            req.complete(Status.SUCCESS);
            settle(req.queue, ctrl, auth, before, target);
        });
    }

    static void receive(Request req, Controller ctrl, NvmeTarget target) {
        ControllerAuthentication auth = checked(req);
        if (auth == null) {
            return;
        }
        int length = req.sqe.getIntLE(LENGTH);
        if (length < AuthMessages.FAILURE_LENGTH || length > AuthMessages.MAX_MESSAGE_LENGTH) {
            req.complete(Status.INVALID_FIELD | Status.DNR);
            return;
        }
        if (req.data == null || req.transferLength != length) {
            req.complete(Status.SGL_DATA_LENGTH_INVALID | Status.DNR);
            return;
        }
        req.queue.authenticationExecutor().execute(() -> {
            boolean before = auth.authenticated();
            byte[] message = auth.receive();
            if (message.length > length) {
                req.complete(Status.INVALID_FIELD | Status.DNR);
                fail(req.queue, ctrl, "Authentication Receive of " + length + " bytes cannot hold the "
                        + message.length + "-byte message", target);
                return;
            }
            // The request's buffer is this command's alone; completing hands it back to the event loop.
            req.data.writeBytes(message);
            req.complete(Status.SUCCESS);
            settle(req.queue, ctrl, auth, before, target);
        });
    }

    /** The queue's authentication if the command is well formed, else completes it and returns null. */
    private static ControllerAuthentication checked(Request req) {
        if (req.sqe.getUnsignedByte(SECP) != AuthMessages.SECP_DHCHAP || req.sqe.getUnsignedByte(SPSP0) != AuthMessages.SPSP
                || req.sqe.getUnsignedByte(SPSP1) != AuthMessages.SPSP) {
            req.complete(Status.INVALID_FIELD | Status.DNR);
            return null;
        }
        ControllerAuthentication auth = req.queue.authentication();
        if (auth == null) {
            // No secret for this host: nothing to authenticate against.
            req.complete(Status.COMMAND_SEQUENCE_ERROR | Status.DNR);
        }
        return auth;
    }

    private static void settle(TargetQueue queue, Controller ctrl, ControllerAuthentication auth, boolean before,
                               NvmeTarget target) {
        if (auth.failed()) {
            fail(queue, ctrl, auth.failure(), target);
        } else if (auth.authenticated() && !before) {
            queue.authenticationSettled();
            target.authenticationSucceeded();
            log.info("Host {} authenticated on queue {} of controller {}", ctrl.hostNqn(), queue.qid(), ctrl.cntlid());
        }
    }

    /** The host closed the connection before its queue authenticated (as a host without the secret does). */
    static void abandoned(TargetQueue queue, Controller ctrl, NvmeTarget target) {
        if (!queue.firstAuthenticationFailure()) {
            return;
        }
        target.authenticationFailed();
        log.warn("Host {} from {} closed queue {} of controller {} without authenticating", ctrl.hostNqn(),
                queue.remote(), queue.qid(), ctrl.cntlid());
    }

    private static void fail(TargetQueue queue, Controller ctrl, String why, NvmeTarget target) {
        queue.authenticationSettled();
        if (queue.firstAuthenticationFailure()) {
            target.authenticationFailed();
            log.warn("Host {} from {} failed authentication on queue {} of controller {}: {}", ctrl.hostNqn(),
                    queue.remote(), queue.qid(), ctrl.cntlid(), why);
        }
        ctrl.destroy("authentication failed");
    }
}
