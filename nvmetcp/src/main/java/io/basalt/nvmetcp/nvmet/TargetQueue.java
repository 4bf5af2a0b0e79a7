package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.auth.ControllerAuthentication;
import io.basalt.nvmetcp.nvme.DataDirection;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.pdu.Pdu;
import io.basalt.nvmetcp.pdu.PduException;
import io.basalt.nvmetcp.pdu.PduReader;
import io.basalt.nvmetcp.pdu.PduWriter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The target side of one NVMe/TCP connection, which is one queue (admin or I/O) of a controller:
 * the initialize exchange, command capsules, write data through R2T/H2CData, read data through
 * C2HData, completions, and termination on protocol violations. Runs on the channel's event loop.
 * <p>
 * A command's data bytes are reserved from this connection's and the node's budgets before its
 * buffer exists (see {@link ResourceLimits}); a command that does not fit waits in arrival order,
 * holding its slot but no memory. Data that came inside the command's capsule is already in memory:
 * it is charged on arrival, and while such a command waits for bytes the connection stops reading
 * its socket (see {@link #applyBackPressure}). A slot is free again only when its completion is on
 * the wire, so a host that does not read cannot have more than a queue's worth of commands.
 */
final class TargetQueue extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TargetQueue.class);
    /** Linux sends admin queue capsules with up to 8 KiB of data (NVME_TCP_ADMIN_CCSZ). */
    static final int ADMIN_IN_CAPSULE_DATA = 8192;
    static final int ADMIN_QUEUE_SIZE = 32;
    /**
     * Room of a buffer of {@link #controlPdus}: 73 CapsuleResps or R2Ts with header digests, 85
     * without; a turn that has more sends several buffers.
     */
    private static final int CONTROL_PDUS_BYTES = 2048;

    private final NvmeTarget target;
    private final TargetOptions options;
    private final PduWriter writer = new PduWriter();
    private final PduReader reader = new PduReader(writer);
    private final Request[] requests;
    /** One bit per command identifier held by a slot: a host must not reuse a CID still in flight. */
    private final long[] cidsInUse = new long[65536 / 64];
    private final int[] free;
    private int freeCount;
    private Channel channel;
    private boolean initialized;
    private boolean terminated;
    private Controller controller;
    private int qid = -1;
    private int queueSize;
    private int sqhd;
    private boolean sqFlowControlDisabled;
    private final ResourceLimits limits;
    private final boolean discoveryOnly;
    /** The ANA states of the port this connection came through: the path its commands take. */
    private final PortAnaStates anaStates;
    private final ArrayDeque<Request> waitingForBudget;
    /** Commands among {@link #waitingForBudget} that hold their in-capsule data. */
    private int inCapsuleWaiting;
    /** Reading the socket is stopped by {@link #applyBackPressure}. */
    private boolean readingPaused;
    /** Data bytes the commands of this connection hold. */
    private long dataBytesHeld;
    /** The node's budget as this connection's event loop takes it; set once the connection is admitted. */
    private LoopDataBudget dataBudget;
    /** Registered with the node's budget, to be woken when it has bytes again. */
    private boolean nodeBudgetWaiter;
    private final Runnable startWaiting = this::startWaiting;
    /**
     * The CapsuleResps and R2Ts (PDUs without data) this event-loop turn produced, in order, not yet
     * written: they leave as one pooled buffer and one outbound entry by {@link #sendControlPdus},
     * queued behind the completions the loop has to run, rather than one buffer and one entry each.
     */
    private ByteBuf controlPdus;
    private boolean controlPdusScheduled;
    private final Runnable sendControlPdus = this::sendControlPdus;
    private String host;
    private boolean admitted;
    private ScheduledFuture<?> ticker;
    private final long tickMillis;
    private long ticks;
    /** Null unless the host must authenticate this queue (the target holds a secret for it). */
    private ControllerAuthentication authentication;
    private ScheduledFuture<?> authenticationDeadline;
    /** Guarded by this queue's monitor: see {@link #firstAuthenticationFailure()}. */
    private boolean authenticationFailureCounted;
    /** Where this queue's authentication messages are handled, in order (off the event loop). */
    private EventExecutor authenticationExecutor;

    /**
     * @param discoveryOnly whether the port serves only the discovery subsystem (Connect to others is refused)
     * @param anaStates     the ANA states of the port the connection came through
     */
    TargetQueue(NvmeTarget target, boolean discoveryOnly, PortAnaStates anaStates) {
        this.target = target;
        this.discoveryOnly = discoveryOnly;
        this.anaStates = anaStates;
        this.options = target.options();
        this.limits = options.limits();
        this.tickMillis = Math.max(1, Math.min(limits.connectTimeoutMillis(), limits.dataTimeoutMillis()) / 4);
        int slots = Math.max(ADMIN_QUEUE_SIZE, options.maxQueueSize());
        this.requests = new Request[slots];
        this.free = new int[slots];
        for (int i = 0; i < slots; i++) {
            requests[i] = new Request(this, i);
        }
        this.waitingForBudget = new ArrayDeque<>(slots);
        this.freeCount = 1; // only the Connect command until the queue size is known
        this.queueSize = 1;
    }

    /** The longest PDU a host may send to a target with these options. */
    static int maxPduLength(TargetOptions options) {
        int digests = 2 * Pdu.DIGEST_LENGTH;
        int capsule = Pdu.CAPSULE_CMD_HEADER_LENGTH + Math.max(ADMIN_IN_CAPSULE_DATA, options.inCapsuleDataSize());
        int data = Pdu.DATA_HEADER_LENGTH + options.maxH2CData();
        return Math.max(capsule, data) + digests + 128; // room for host data alignment padding
    }

    public Controller controller() {
        return controller;
    }

    public int qid() {
        return qid;
    }

    boolean discoveryOnly() {
        return discoveryOnly;
    }

    PortAnaStates portAnaStates() {
        return anaStates;
    }

    ControllerAuthentication authentication() {
        return authentication;
    }

    /** Whether commands other than Connect and the authentication commands may run. */
    boolean isAuthenticated() {
        return authentication == null || authentication.authenticated();
    }

    void requireAuthentication(ControllerAuthentication auth, ScheduledFuture<?> deadline, EventExecutor executor) {
        authentication = auth;
        authenticationDeadline = deadline;
        authenticationExecutor = executor;
    }

    EventExecutor authenticationExecutor() {
        return authenticationExecutor;
    }

    /** The first transaction succeeded or failed: its deadline no longer applies. */
    void authenticationSettled() {
        authenticationDeadline.cancel(false);
    }

    /**
     * True the first time only: a failed transaction and the close that follows it (or a close that
     * races the host's Failure2, handled off the event loop) are one failure, counted once.
     */
    synchronized boolean firstAuthenticationFailure() {
        if (authenticationFailureCounted) {
            return false;
        }
        authenticationFailureCounted = true;
        return true;
    }

    public boolean isAdmin() {
        return qid == 0;
    }

    boolean inEventLoop() {
        return channel.eventLoop().inEventLoop();
    }

    void execute(Runnable task) {
        channel.eventLoop().execute(task);
    }

    Channel channel() {
        return channel;
    }

    String remote() {
        return String.valueOf(channel.remoteAddress());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        host = hostOf(channel.remoteAddress());
        if (!target.admitConnection(host)) {
            log.warn("Refusing a connection from {}: the connection limit is reached ({} per host, {} per node)",
                    remote(), limits.connectionsPerHost(), limits.connectionsPerNode());
            terminated = true;
            ctx.close();
            return;
        }
        admitted = true;
        dataBudget = target.dataBudget().forLoop(channel.eventLoop());
        dataBudget.connectionOpened();
        ticker = channel.eventLoop().scheduleAtFixedRate(this::tick, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    private static String hostOf(SocketAddress remote) {
        return remote instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : String.valueOf(remote);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!admitted) {
            ctx.fireChannelInactive();
            return;
        }
        ticker.cancel(false);
        if (controlPdus != null) {
            controlPdus.release();
            controlPdus = null;
        }
        target.connectionClosed(this, host);
        if (authenticationDeadline != null && authenticationDeadline.cancel(false)) {
            Authentication.abandoned(this, controller, target);
        }
        if (controller != null) {
            controller.queueClosed(this);
        }
        for (Request r : waitingForBudget) {
            r.reset(); // no bytes, but an in-capsule write holds its data
        }
        waitingForBudget.clear();
        for (Request r : requests) {
            if (r.inUse && r.awaitingData) {
                returnData(r); // no device holds it: release its buffer and bytes now
                r.reset();
            }
        }
        dataBudget.connectionClosed();
        ctx.fireChannelInactive();
    }

    /**
     * Runs every quarter of the shorter timeout: a connection not connected in time, or a command
     * whose R2T data has not all come in time, ends the connection.
     */
    private void tick() {
        ticks++;
        if (terminated) {
            return;
        }
        if (controller == null && ticks * tickMillis > limits.connectTimeoutMillis()) {
            log.warn("Closing connection from {}: no ICReq and Connect within {} ms", remote(), limits.connectTimeoutMillis());
            close();
            return;
        }
        for (Request r : requests) {
            if (r.inUse && r.awaitingData && (ticks - r.awaitingSinceTick) * tickMillis > limits.dataTimeoutMillis()) {
                terminate(new PduException(Pdu.FES_PDU_SEQUENCE_ERROR, Pdu.TYPE, "the data for R2T of CID " + r.cid
                        + " did not all come within " + limits.dataTimeoutMillis() + " ms"), null);
                return;
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf pdu = (ByteBuf) msg;
        try {
            if (!terminated) {
                dispatch(pdu);
            }
        } catch (PduException e) {
            terminate(e, pdu);
        } finally {
            pdu.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof PduException e) {
            terminate(e, null);
        } else if (!terminated) { // every write queued behind a failed one fails too: say it once
            terminated = true;
            log.info("Closing connection from {}: {}", remote(), root.toString());
            ctx.close();
        }
    }

    private void dispatch(ByteBuf pdu) {
        int type = Pdu.type(pdu);
        if (!initialized) {
            if (type != Pdu.IC_REQ) {
                throw new PduException(Pdu.FES_PDU_SEQUENCE_ERROR, Pdu.TYPE, Pdu.name(type) + " before ICReq");
            }
            initialize(pdu);
            return;
        }
        switch (type) {
            case Pdu.CAPSULE_CMD -> capsule(pdu);
            case Pdu.H2C_DATA -> h2cData(pdu);
            case Pdu.H2C_TERM_REQ -> {
                log.warn("Host {} terminated the connection: FES 0x{}", remote(),
                        Integer.toHexString(pdu.getUnsignedShortLE(pdu.readerIndex() + Pdu.TERM_FES)));
                terminated = true;
                channel.close();
            }
            case Pdu.IC_REQ -> throw new PduException(Pdu.FES_PDU_SEQUENCE_ERROR, Pdu.TYPE, "second ICReq");
            default -> throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.TYPE,
                    Pdu.name(type) + " is not a host-to-controller PDU");
        }
    }

    private void initialize(ByteBuf pdu) {
        int ri = pdu.readerIndex();
        if (Pdu.plen(pdu) != Pdu.IC_LENGTH) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.PLEN, "ICReq PLEN " + Pdu.plen(pdu) + ", must be 128");
        }
        int pfv = pdu.getUnsignedShortLE(ri + Pdu.IC_PFV);
        int hpda = pdu.getUnsignedByte(ri + Pdu.IC_PDA);
        int digests = pdu.getUnsignedByte(ri + Pdu.IC_DIGEST);
        if (pfv != 0) {
            throw new PduException(Pdu.FES_UNSUPPORTED_PARAMETER, Pdu.IC_PFV, "unsupported PDU format version " + pfv);
        }
        if (hpda > 31) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.IC_PDA, "HPDA " + hpda + " out of range");
        }
        boolean headerDigest = (digests & Pdu.IC_DIGEST_HEADER) != 0;
        boolean dataDigest = (digests & Pdu.IC_DIGEST_DATA) != 0;
        channel.writeAndFlush(PduWriter.icResp(channel.alloc(), 0, headerDigest, dataDigest, options.maxH2CData()));
        writer.negotiated(headerDigest, dataDigest, hpda);
        initialized = true;
    }

    /**
     * Checks a post-initialization PDU's framing and digests; returns the index of its data (of
     * {@code reader.dataLength()} bytes), or -1 if it has none.
     */
    private int dataIndex(ByteBuf pdu) {
        int index = reader.dataIndex(pdu);
        if (index >= 0 && !reader.dataDigestMatches(pdu, index)) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.plen(pdu) - Pdu.DIGEST_LENGTH,
                    "data digest mismatch on " + Pdu.name(Pdu.type(pdu)));
        }
        return index;
    }

    private void capsule(ByteBuf pdu) {
        int dataIndex = dataIndex(pdu);
        int dataLength = reader.dataLength();
        int cid = pdu.getUnsignedShortLE(pdu.readerIndex() + Pdu.COMMON_HEADER_LENGTH + Sqe.CID);
        if (queueSize > 1) {
            sqhd = (sqhd + 1) % queueSize;
        }
        if (isCidInUse(cid)) {
            // Answered without a slot: the command that holds the CID keeps it.
            writer.appendCapsuleResp(controlPdusWithRoom(), 0, 0, sqhd, Math.max(qid, 0), cid, Status.CID_CONFLICT | Status.DNR);
            return;
        }
        Request req = acquire();
        pdu.getBytes(pdu.readerIndex() + Pdu.COMMON_HEADER_LENGTH, req.sqe, 0, Sqe.SIZE);
        req.sqe.setIndex(0, Sqe.SIZE);
        req.cid = cid;
        markCid(cid, true);
        req.startNanos = System.nanoTime();
        int flags = req.sqe.getUnsignedByte(Sqe.FLAGS);
        if ((flags & Sqe.FLAGS_FUSE) != 0 || (flags & Sqe.FLAGS_PSDT) == Sqe.FLAGS_PSDT_RESERVED) {
            req.complete(Status.INVALID_FIELD | Status.DNR); // fused commands are not supported
            return;
        }
        int direction = DataDirection.of(req.sqe);
        int sglType = Sqe.sglType(req.sqe);
        int sglLength = Sqe.sglLength(req.sqe);
        if (dataIndex >= 0) {
            // The admin queue's capsules are Linux's and Basalt's hosts' 8 KiB whatever IOCCSZ is, and a
            // connection that has not connected gets no more than that before anyone knows its host.
            boolean ioQueue = controller != null && !isAdmin();
            int limit = ioQueue ? options.inCapsuleDataSize() : ADMIN_IN_CAPSULE_DATA;
            if (dataLength > limit) {
                throw new PduException(Pdu.FES_DATA_LIMIT_EXCEEDED, Pdu.PLEN,
                        dataLength + " bytes of in-capsule data, the limit is " + limit);
            }
            if (sglType != Sqe.SGL_INCAPSULE) {
                req.complete(Status.SGL_DESCRIPTOR_TYPE_INVALID | Status.DNR);
            } else if (Sqe.sglAddress(req.sqe) != 0) {
                req.complete(Status.SGL_OFFSET_INVALID | Status.DNR);
            } else if (direction != DataDirection.HOST_TO_CONTROLLER || sglLength != dataLength) {
                req.complete(Status.SGL_DATA_LENGTH_INVALID | Status.DNR);
            } else {
                req.transferLength = sglLength;
                req.inCapsuleData = true;
                // Taken out of the socket's buffer now, as R2T data is (copied if small, see WriteData), so
                // that the command pins about its own bytes, which are what it is charged, and not a whole
                // receive buffer, whether it runs now or waits.
                req.writeData.add(channel.alloc(), pdu, dataIndex, dataLength, dataLength);
                if (!ioQueue) {
                    startTransfer(req); // not counted: see applyBackPressure
                } else if (waitingForBudget.isEmpty() && reserve(req)) {
                    startTransfer(req);
                } else {
                    waitingForBudget.add(req);
                    inCapsuleWaiting++;
                    applyBackPressure();
                }
            }
            return;
        }
        if (sglLength == 0 || direction == DataDirection.NONE) {
            execute(req);
            return;
        }
        if (sglType != Sqe.SGL_TRANSPORT) {
            req.complete(Status.SGL_DESCRIPTOR_TYPE_INVALID | Status.DNR);
            return;
        }
        if (Integer.compareUnsigned(sglLength, options.maxTransferSize()) > 0) {
            req.complete(Status.INVALID_FIELD | Status.DNR);
            return;
        }
        if (controller == null) {
            // Before Connect only a Connect with in-capsule data: nothing is reserved for an unknown host.
            req.complete(Status.COMMAND_SEQUENCE_ERROR | Status.DNR);
            return;
        }
        req.transferLength = sglLength;
        if (waitingForBudget.isEmpty() && reserve(req)) {
            startTransfer(req);
        } else {
            waitingForBudget.add(req);
        }
    }

    /** Takes the command's data bytes from this connection's and the node's budgets, if both have them. */
    private boolean reserve(Request req) {
        int bytes = req.transferLength;
        if (dataBytesHeld + bytes > limits.connectionDataBytes()) {
            return false;
        }
        if (!dataBudget.tryReserve(bytes)) {
            if (!nodeBudgetWaiter) {
                nodeBudgetWaiter = true;
                target.dataBudget().await(this, bytes);
            }
            return false;
        }
        dataBytesHeld += bytes;
        req.reservedBytes = bytes;
        return true;
    }

    private void returnData(Request req) {
        if (req.reservedBytes > 0) {
            dataBytesHeld -= req.reservedBytes;
            dataBudget.release(req.reservedBytes);
            req.reservedBytes = 0;
        }
    }

    /**
     * Runs a write whose data came in its capsule, asks for a write's data (gathered from its H2CData
     * PDUs, see {@link WriteData}), or runs a read into a new buffer.
     */
    private void startTransfer(Request req) {
        if (req.inCapsuleData) {
            req.data = req.writeData.take(channel.alloc(), req.transferLength);
            execute(req);
        } else if (DataDirection.of(req.sqe) == DataDirection.HOST_TO_CONTROLLER) {
            req.awaitingData = true;
            req.awaitingSinceTick = ticks;
            writer.appendR2T(controlPdusWithRoom(), req.cid, req.index, 0, req.transferLength);
        } else {
            // Room for the C2HData header in front and the CapsuleResp behind: the read leaves as one buffer.
            int room = writer.inPlaceHeaderRoom();
            int capacity = room + req.transferLength + writer.inPlaceTrailerRoom(!sqFlowControlDisabled);
            req.data = channel.alloc().directBuffer(capacity, capacity).setIndex(room, room);
            execute(req);
        }
    }

    /** Starts waiting commands, in arrival order, while the budgets have room. Event loop only. */
    private void startWaiting() {
        nodeBudgetWaiter = false;
        while (!terminated && channel.isActive() && !waitingForBudget.isEmpty() && reserve(waitingForBudget.peek())) {
            Request req = waitingForBudget.poll();
            if (req.inCapsuleData) {
                inCapsuleWaiting--;
            }
            startTransfer(req);
        }
        applyBackPressure();
    }

    /**
     * Stops reading the socket while an I/O queue's command waits for bytes with its in-capsule data,
     * and reads again once none does: a host cannot have the target hold more data than the budgets
     * by sending it inside capsules. The commands decoded from what was already read still come, and
     * wait in arrival order: beyond the budgets, a connection holds at most what one read brought.
     * <p>
     * It keeps reading while an R2T's data has not all come, since the bytes that data's command holds
     * return only once it has come (paused, a connection whose budget those commands hold would
     * wait for itself until the data timeout): what the host sends meanwhile is bounded by the
     * connection's slots, each with at most the in-capsule size, and by the data timeout, and no new
     * R2T is sent while an in-capsule write waits ahead of it.
     * <p>
     * The in-capsule data of the admin queue, and of a connection not yet connected (its Connect), is
     * neither counted nor waits, and those connections are never stopped: the admin queue carries the
     * Keep Alive commands that keep the controller alive, and a Connect must not wait for other
     * connections' bytes. What they hold is bounded by their slots of 8 KiB at most (one before
     * Connect, 32 on an admin queue), copied out of the socket's buffers. Completions are written
     * whether reading is stopped or not. Event loop only.
     */
    private void applyBackPressure() {
        boolean pause = inCapsuleWaiting > 0 && !awaitingR2tData();
        if (pause != readingPaused) {
            readingPaused = pause;
            channel.config().setAutoRead(!pause);
        }
    }

    /** Whether an R2T was sent whose data has not all come. */
    private boolean awaitingR2tData() {
        for (Request r : requests) {
            if (r.inUse && r.awaitingData) {
                return true;
            }
        }
        return false;
    }

    /** The node's budget has bytes again; called from any thread. */
    void nodeBudgetReturned() {
        channel.eventLoop().execute(startWaiting);
    }

    private void h2cData(ByteBuf pdu) {
        int ri = pdu.readerIndex();
        int cccid = pdu.getUnsignedShortLE(ri + Pdu.DATA_CCCID);
        int ttag = pdu.getUnsignedShortLE(ri + Pdu.DATA_TTAG);
        int offset = pdu.getIntLE(ri + Pdu.DATA_OFFSET);
        int length = pdu.getIntLE(ri + Pdu.DATA_LENGTH);
        int payload = dataIndex(pdu);
        Request req = ttag < requests.length ? requests[ttag] : null;
        if (req == null || !req.inUse || req.cid != cccid || !req.awaitingData) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.DATA_TTAG,
                    "H2CData for no outstanding R2T (CCCID " + cccid + ", TTAG " + ttag + ")");
        }
        if (Integer.compareUnsigned(length, options.maxH2CData()) > 0) {
            throw new PduException(Pdu.FES_DATA_LIMIT_EXCEEDED, Pdu.DATA_LENGTH,
                    "H2CData of " + Integer.toUnsignedString(length) + " bytes exceeds MAXH2CDATA " + options.maxH2CData());
        }
        if (offset != req.received || Integer.toUnsignedLong(offset) + Integer.toUnsignedLong(length) > req.transferLength) {
            throw new PduException(Pdu.FES_DATA_OUT_OF_RANGE, Pdu.DATA_OFFSET,
                    "H2CData at offset " + Integer.toUnsignedString(offset) + " length " + Integer.toUnsignedString(length)
                            + " for a transfer of " + req.transferLength + " with " + req.received + " received");
        }
        if (payload < 0 || reader.dataLength() != length) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.PLEN, "H2CData carries a different length than DATAL");
        }
        req.writeData.add(channel.alloc(), pdu, payload, length, req.transferLength);
        req.received += length;
        if (req.received == req.transferLength) {
            req.data = req.writeData.take(channel.alloc(), req.transferLength);
            execute(req);
            if (inCapsuleWaiting > 0) {
                applyBackPressure(); // this may have been the last R2T data reading went on for
            }
        }
    }

    private void execute(Request req) {
        req.awaitingData = false;
        int opcode = Sqe.opcode(req.sqe);
        try {
            if (opcode == Opcodes.FABRICS) {
                Fabrics.execute(req, target);
            } else if (controller != null && !isAuthenticated()) {
                req.complete(Status.AUTHENTICATION_REQUIRED | Status.DNR);
            } else if (controller == null || !controller.isReady()) {
                req.complete(Status.COMMAND_SEQUENCE_ERROR | Status.DNR);
            } else if (isAdmin()) {
                controller.executeAdmin(req);
            } else {
                controller.executeIo(req);
            }
        } catch (RuntimeException e) {
            // A handler's defect must not close the connection without a completion and keep the buffer.
            log.error("Command opcode 0x{} from {} failed", Integer.toHexString(opcode), remote(), e);
            if (!req.completed) {
                req.complete(Status.INTERNAL_ERROR);
            }
        }
    }

    /** Sends a command's data (for controller-to-host transfers) and completion. Event loop only. */
    void finish(Request req) {
        if (!channel.isActive() || terminated) {
            release(req);
            return;
        }
        int status = req.status;
        int opcode = Sqe.opcode(req.sqe);
        if (req.namespace != null) {
            req.namespace.observer().completed(opcode, req.transferLength, System.nanoTime() - req.startNanos, status);
        }
        boolean sendsData = Status.isSuccess(status) && req.data != null && req.transferLength > 0
                && DataDirection.of(req.sqe) == DataDirection.CONTROLLER_TO_HOST;
        if (sendsData) {
            // The buffer startTransfer made: the data after the C2HData header's room, the trailer's room after it.
            ByteBuf data = req.data;
            req.data = null;
            int end = writer.inPlaceHeaderRoom() + req.transferLength;
            if (data.writerIndex() < end) {
                data.writeZero(end - data.writerIndex());
            }
            int flags = Pdu.FLAG_DATA_LAST | (sqFlowControlDisabled ? Pdu.FLAG_DATA_SUCCESS : 0);
            writer.c2hDataInPlace(data, flags, req.cid, req.transferLength);
            if (!sqFlowControlDisabled) {
                writer.appendCapsuleResp(data, req.dw0, req.dw1, sqhd, Math.max(qid, 0), req.cid, status);
            }
            writeControlPdus(); // completions leave in the order they were made (their SQHDs never go back)
            // The slot and the read's bytes return once the data is on the wire, not when it is queued.
            channel.writeAndFlush(data, channel.newPromise().addListener(req));
        } else {
            writer.appendCapsuleResp(controlPdusWithRoom(), req.dw0, req.dw1, sqhd, Math.max(qid, 0), req.cid, status);
            release(req);
        }
    }

    /**
     * The buffer to append a CapsuleResp or R2T to: this turn's, or a new one (the full one is written
     * first); the first of a turn schedules {@link #sendControlPdus}. Event loop only.
     */
    private ByteBuf controlPdusWithRoom() {
        if (controlPdus != null && controlPdus.writableBytes() < writer.controlPduLength()) {
            writeControlPdus();
        }
        if (controlPdus == null) {
            controlPdus = channel.alloc().directBuffer(CONTROL_PDUS_BYTES, CONTROL_PDUS_BYTES);
        }
        if (!controlPdusScheduled) {
            controlPdusScheduled = true;
            channel.eventLoop().execute(sendControlPdus);
        }
        return controlPdus;
    }

    /** Queues the control PDUs made so far on the channel, without a flush. */
    private void writeControlPdus() {
        if (controlPdus != null) {
            channel.write(controlPdus, channel.voidPromise());
            controlPdus = null;
        }
    }

    /** Runs after the tasks already queued on the loop (the completions that came together): sends what they made. */
    private void sendControlPdus() {
        controlPdusScheduled = false;
        if (terminated || !channel.isActive()) {
            return; // released by terminate or channelInactive
        }
        writeControlPdus();
        channel.flush();
    }

    /** A command's last PDU left (see {@link Request#operationComplete}). */
    void sent(Request req) {
        release(req);
    }

    private Request acquire() {
        if (freeCount == 0) {
            throw new PduException(Pdu.FES_PDU_SEQUENCE_ERROR, Pdu.TYPE,
                    "more outstanding commands than the queue size " + queueSize);
        }
        Request r = requests[free[--freeCount]];
        r.inUse = true;
        return r;
    }

    private boolean isCidInUse(int cid) {
        return (cidsInUse[cid >>> 6] & 1L << cid) != 0;
    }

    private void markCid(int cid, boolean inUse) {
        if (inUse) {
            cidsInUse[cid >>> 6] |= 1L << cid;
        } else {
            cidsInUse[cid >>> 6] &= ~(1L << cid);
        }
    }

    private void release(Request req) {
        markCid(req.cid, false);
        returnData(req);
        req.reset();
        free[freeCount++] = req.index;
        if (!waitingForBudget.isEmpty()) {
            startWaiting();
        }
    }

    /** Called when Connect succeeds: the queue now belongs to a controller and has its size. */
    void connected(Controller controller, int qid, int queueSize, boolean sqFlowControlDisabled) {
        this.controller = controller;
        this.qid = qid;
        this.sqFlowControlDisabled = sqFlowControlDisabled;
        this.queueSize = queueSize;
        // Only the Connect command (still in use) was allowed until now; open the rest of the queue.
        freeCount = 0;
        for (Request r : requests) {
            if (freeCount == queueSize - 1) {
                break;
            }
            if (!r.inUse) {
                free[freeCount++] = r.index;
            }
        }
        target.queueConnected();
    }

    /** Ends the connection because of a protocol violation. */
    void terminate(PduException e, ByteBuf offending) {
        if (terminated) {
            return;
        }
        terminated = true;
        log.warn("Terminating connection from {}{}: {} (FES 0x{}, FEI {})", remote(),
                controller == null ? "" : " (controller " + controller.cntlid() + ", queue " + qid + ")",
                e.getMessage(), Integer.toHexString(e.fes()), e.fei());
        ByteBuf header = offending == null ? null : offending.slice(offending.readerIndex(),
                Math.min(offending.readableBytes(), Pdu.hlen(offending)));
        writeControlPdus(); // what was answered before the violation still goes out, before the TermReq
        channel.writeAndFlush(PduWriter.termReq(channel.alloc(), Pdu.C2H_TERM_REQ, e.fes(), e.fei(), header))
                .addListener(ChannelFutureListener.CLOSE);
    }

    /** Closes the connection without a TermReq (controller teardown, keep alive expiry). */
    void close() {
        terminated = true;
        channel.close();
    }
}
