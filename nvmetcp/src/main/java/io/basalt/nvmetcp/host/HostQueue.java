package io.basalt.nvmetcp.host;

import io.basalt.nvmetcp.auth.AuthMessages;
import io.basalt.nvmetcp.auth.AuthenticationException;
import io.basalt.nvmetcp.auth.HostAuthentication;
import io.basalt.nvmetcp.nvme.DataDirection;
import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.pdu.Pdu;
import io.basalt.nvmetcp.pdu.PduException;
import io.basalt.nvmetcp.pdu.PduFrameDecoder;
import io.basalt.nvmetcp.pdu.PduReader;
import io.basalt.nvmetcp.pdu.PduWriter;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.flush.FlushConsolidationHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The host side of one NVMe/TCP connection, which is one queue (admin or I/O) of a controller: the
 * initialize exchange, command capsules (with in-capsule data when it fits), write data sent through
 * H2CData when the controller asks with R2T, read data received through C2HData, completions, and
 * termination. The connection stays on one event loop; commands may be submitted from any thread.
 *
 * <p>Buffers passed to a command stay the caller's: write data must not change, and a read buffer
 * must not be used, until the command completes.
 */
public final class HostQueue extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(HostQueue.class);
    /** Admin queue entries, as Linux's host uses (NVME_AQ_DEPTH). */
    public static final int ADMIN_QUEUE_SIZE = 32;
    /** In-capsule data an admin queue accepts: Linux's NVME_TCP_ADMIN_CCSZ, which targets honour. */
    static final int ADMIN_IN_CAPSULE_DATA = 8192;
    /** Largest single transfer the host accepts (a C2HData PDU is buffered whole before it is copied). */
    public static final int MAX_TRANSFER = 32 << 20;
    private static final int MAX_PDU = MAX_TRANSFER + 256;
    /** Flags byte of an entry: PSDT 01b, SGLs describe the data. */
    private static final int PSDT_SGL = 0x40;
    private static final int CQE_RESULT = 8;
    private static final int CQE_CID = 20;
    private static final int CQE_STATUS = 22;
    private static final int FLUSH_CONSOLIDATION = 256;
    /** AUTHREQ bits of the Connect result: authentication transaction, secure channel required. */
    private static final int CONNECT_AUTHREQ_ATR = 1 << 17;
    private static final int CONNECT_AUTHREQ_ASCR = 1 << 18;
    private static final SecureRandom AUTH_RANDOM = new SecureRandom();

    private final HostOptions options;
    private final int qid;
    private final int queueSize;
    private final int inCapsuleLimit;
    private final NamespaceFormats formats;
    private final PduWriter writer = new PduWriter();
    private final PduReader reader = new PduReader(writer);
    private final CommandSlot[] slots;
    /** Free command identifiers (a stack); guarded by itself, as submitters run on any thread. */
    private final int[] free;
    private int freeCount;
    private final CompletableFuture<HostQueue> initialized = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private Channel channel;
    private int maxH2CData;
    private volatile NvmeTransportException failure;
    /** Transaction ID of the next authentication on this queue. */
    private final AtomicInteger authTransactions = new AtomicInteger();

    /**
     * @param queueSize      entries sent in Connect; {@code queueSize - 1} commands may be outstanding
     * @param inCapsuleLimit largest write sent inside the command capsule; larger ones wait for an R2T
     */
    HostQueue(HostOptions options, int qid, int queueSize, int inCapsuleLimit, NamespaceFormats formats) {
        this.options = options;
        this.qid = qid;
        this.queueSize = queueSize;
        this.inCapsuleLimit = inCapsuleLimit;
        this.formats = formats;
        int depth = queueSize - 1;
        this.slots = new CommandSlot[depth];
        this.free = new int[depth];
        for (int i = 0; i < depth; i++) {
            slots[i] = new CommandSlot(this, i);
            free[i] = depth - 1 - i; // lowest identifiers first
        }
        this.freeCount = depth;
    }

    /**
     * Opens a connection and completes the initialize exchange (ICReq/ICResp); the queue still has to
     * be connected to a controller with {@link #connect}.
     */
    static CompletableFuture<HostQueue> open(EventLoopGroup group, HostOptions options, String address, int port,
                                             int qid, int queueSize, int inCapsuleLimit, NamespaceFormats formats) {
        HostQueue queue = new HostQueue(options, qid, queueSize, inCapsuleLimit, formats);
        new Bootstrap()
                .group(group)
                .channel(group instanceof EpollEventLoopGroup ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, options.connectTimeoutMillis())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // Consolidation turns the flush after each command into one write per event loop round.
                        ch.pipeline().addLast(new FlushConsolidationHandler(FLUSH_CONSOLIDATION, true),
                                new PduFrameDecoder(MAX_PDU), queue);
                    }
                })
                .connect(address, port)
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        queue.initialized.completeExceptionally(new NvmeTransportException(
                                "cannot connect queue " + qid + " to " + address + ":" + port + ": " + f.cause().getMessage(),
                                f.cause()));
                    }
                });
        return queue.initialized;
    }

    /**
     * Fabrics Connect of this queue, then in-band authentication if the controller requires it;
     * completes with the controller ID.
     */
    CompletableFuture<Integer> connect(String subnqn, int cntlid, int keepAliveMillis) {
        ByteBuf sqe = Commands.connect(qid, queueSize, keepAliveMillis, options.sqFlowControlDisabled());
        ByteBuf data = Commands.connectData(options.hostId(), cntlid, subnqn, options.hostNqn());
        return command(sqe, data, Commands.CONNECT_DATA_LENGTH).thenCompose(c -> {
            int result = c.orThrow("Connect of queue " + qid + " to " + subnqn).dw0();
            if ((result & CONNECT_AUTHREQ_ASCR) != 0) {
                throw new CompletionException(new NvmeTransportException("controller of " + subnqn
                        + " requires a secure channel, which this host does not support"));
            }
            if ((result & CONNECT_AUTHREQ_ATR) == 0) {
                return CompletableFuture.completedFuture(result & 0xFFFF);
            }
            return authenticate(subnqn).thenApply(v -> result & 0xFFFF);
        });
    }

    /**
     * Runs a DH-HMAC-CHAP transaction on this queue (after Connect when the controller requires it, or
     * again to re-authenticate). Fails with {@link NvmeAuthenticationException} when either side refuses.
     */
    public CompletableFuture<Void> authenticate(String subnqn) {
        if (options.dhchap() == null) {
            return CompletableFuture.failedFuture(new NvmeAuthenticationException("controller of " + subnqn
                    + " requires authentication on queue " + qid + ", but no DH-HMAC-CHAP secret is set"));
        }
        HostAuthentication auth = new HostAuthentication(options.dhchap(), options.hostNqn(), subnqn,
                authTransactions.getAndIncrement(), AUTH_RANDOM);
        return authSend(auth.negotiate())
                .thenCompose(v -> authReceive())
                // Diffie-Hellman takes milliseconds to hundreds of them: not on this queue's event loop.
                .thenComposeAsync(challenge -> authStep(auth, () -> auth.reply(challenge)), ForkJoinPool.commonPool())
                .thenCompose(this::authSend)
                .thenCompose(v -> authReceive())
                .thenComposeAsync(success1 -> authStep(auth, () -> auth.success2(success1)), ForkJoinPool.commonPool())
                .thenCompose(success2 -> success2 == null ? CompletableFuture.completedFuture(null) : authSend(success2));
    }

    private interface AuthStep {
        byte[] run() throws AuthenticationException;
    }

    /** One host step; on failure, tells the controller (Failure2) unless it reported the failure itself. */
    private CompletableFuture<byte[]> authStep(HostAuthentication auth, AuthStep step) {
        try {
            return CompletableFuture.completedFuture(step.run());
        } catch (AuthenticationException e) {
            NvmeAuthenticationException failure = new NvmeAuthenticationException("authentication of queue " + qid
                    + " failed: " + e.getMessage());
            byte[] failure2 = auth.failure2(e);
            CompletableFuture<Void> told = failure2 == null ? CompletableFuture.completedFuture(null) : authSend(failure2);
            return told.handle((v, ignored) -> {
                throw new CompletionException(failure);
            });
        }
    }

    private CompletableFuture<Void> authSend(byte[] message) {
        return command(Commands.authenticationSend(message.length), Unpooled.wrappedBuffer(message), message.length)
                .thenAccept(c -> c.orThrow("Authentication Send on queue " + qid));
    }

    private CompletableFuture<byte[]> authReceive() {
        ByteBuf buffer = Unpooled.buffer(AuthMessages.MAX_MESSAGE_LENGTH);
        return command(Commands.authenticationReceive(AuthMessages.MAX_MESSAGE_LENGTH), buffer,
                AuthMessages.MAX_MESSAGE_LENGTH)
                .thenApply(c -> {
                    c.orThrow("Authentication Receive on queue " + qid);
                    return ByteBufUtil.getBytes(buffer, 0, AuthMessages.MAX_MESSAGE_LENGTH);
                });
    }

    public int qid() {
        return qid;
    }

    /** Commands that may be outstanding at once. */
    public int depth() {
        return slots.length;
    }

    /** Largest H2CData payload the controller accepts (MAXH2CDATA from its ICResp). */
    public int maxH2CData() {
        return maxH2CData;
    }

    public boolean headerDigest() {
        return writer.headerDigest();
    }

    public boolean dataDigest() {
        return writer.dataDigest();
    }

    /** Why the queue failed, or null while it works. */
    public NvmeTransportException failure() {
        return failure;
    }

    /** Completes when the connection has closed, for whatever reason. */
    public CompletableFuture<Void> closed() {
        return closed;
    }

    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    // ---- commands ----

    /** Reads {@code blocks} blocks into {@code dst}, appended at its writer index. */
    public void read(int nsid, long lba, int blocks, ByteBuf dst, IoCompletion completion) {
        int length = transferLength(nsid, blocks);
        requireRoom(dst, length);
        CommandSlot s = acquire(completion);
        Commands.readWrite(s.sqe, Opcodes.IO_READ, nsid, lba, blocks, false);
        s.transfer(DataDirection.CONTROLLER_TO_HOST, dst, length, false);
        dispatch(s);
    }

    /** Writes the readable bytes of {@code src}, which must be {@code blocks} blocks. */
    public void write(int nsid, long lba, int blocks, ByteBuf src, boolean fua, IoCompletion completion) {
        int length = transferLength(nsid, blocks);
        if (src.readableBytes() != length) {
            throw new IllegalArgumentException(src.readableBytes() + " bytes to write are not " + blocks + " blocks");
        }
        CommandSlot s = acquire(completion);
        Commands.readWrite(s.sqe, Opcodes.IO_WRITE, nsid, lba, blocks, fua);
        s.transfer(DataDirection.HOST_TO_CONTROLLER, src, length, false);
        dispatch(s);
    }

    public void flush(int nsid, IoCompletion completion) {
        CommandSlot s = acquire(completion);
        Commands.flush(s.sqe, nsid);
        dispatch(s);
    }

    public void writeZeroes(int nsid, long lba, int blocks, IoCompletion completion) {
        transferLength(nsid, blocks);
        CommandSlot s = acquire(completion);
        Commands.writeZeroes(s.sqe, nsid, lba, blocks, false);
        dispatch(s);
    }

    /** Dataset Management, Deallocate, of one range: it reads as zeros afterwards on this target. */
    public void deallocate(int nsid, long lba, int blocks, IoCompletion completion) {
        CommandSlot s = acquire(completion);
        ByteBuf range = channel.alloc().buffer(Commands.DSM_RANGE_LENGTH);
        Commands.dsmRange(range, lba, blocks);
        Commands.deallocate(s.sqe, nsid, 1);
        s.transfer(DataDirection.HOST_TO_CONTROLLER, range, Commands.DSM_RANGE_LENGTH, true);
        dispatch(s);
    }

    /**
     * Sends an arbitrary command. The first 64 readable bytes of {@code sqe} are copied; the queue sets
     * the command identifier, PSDT and the data SGL. The data direction follows the opcode (the fabrics
     * command type for fabrics commands): {@code length} bytes of {@code data} are sent, or received
     * into it, or {@code data} is null and {@code length} 0.
     */
    public void submit(ByteBuf sqe, ByteBuf data, int length, IoCompletion completion) {
        int opcode = sqe.getUnsignedByte(sqe.readerIndex() + Sqe.OPCODE);
        int direction = DataDirection.of(opcode, sqe.getUnsignedByte(sqe.readerIndex() + Sqe.FCTYPE));
        if (length < 0 || length > MAX_TRANSFER || (length > 0 && (data == null || direction == DataDirection.NONE))) {
            throw new IllegalArgumentException("a transfer of " + length + " bytes does not fit opcode 0x"
                    + Integer.toHexString(opcode));
        }
        if (direction == DataDirection.BIDIRECTIONAL) {
            throw new IllegalArgumentException("bidirectional commands are not supported");
        }
        if (direction == DataDirection.HOST_TO_CONTROLLER && length > 0 && data.readableBytes() < length) {
            throw new IllegalArgumentException("data holds fewer than " + length + " bytes");
        }
        if (direction == DataDirection.CONTROLLER_TO_HOST && length > 0) {
            requireRoom(data, length);
        }
        CommandSlot s = acquire(completion);
        s.sqe.setBytes(0, sqe, sqe.readerIndex(), Sqe.SIZE);
        s.transfer(direction, data, length, false);
        dispatch(s);
    }

    /**
     * {@link #submit} as a future, which completes with whatever status the controller returns and
     * fails only when the connection does (or the queue is full).
     */
    public CompletableFuture<Completion> command(ByteBuf sqe, ByteBuf data, int length) {
        CommandFuture future = new CommandFuture();
        try {
            submit(sqe, data, length, future);
        } catch (IllegalStateException e) {
            future.completeExceptionally(e);
        }
        return future;
    }

    /** Fabrics Disconnect: the controller completes it and closes the connection. */
    public CompletableFuture<Void> disconnect() {
        return command(Commands.disconnect(), null, 0)
                .thenCompose(c -> {
                    c.orThrow("Disconnect of queue " + qid);
                    return closed;
                });
    }

    /** Closes the connection; outstanding commands fail. */
    public void close() {
        if (channel != null) {
            channel.close();
        }
    }

    private int transferLength(int nsid, int blocks) {
        int blockSize = formats.blockSize(nsid);
        if (blockSize == 0) {
            throw new IllegalArgumentException("namespace " + nsid + " has not been identified as active");
        }
        long length = (long) blocks * blockSize;
        if (blocks < 1 || blocks > 0x10000 || length > MAX_TRANSFER) {
            throw new IllegalArgumentException(blocks + " blocks is not a valid transfer");
        }
        return (int) length;
    }

    /** A read buffer too small would only be found when the data arrives, on the event loop. */
    private static void requireRoom(ByteBuf dst, int length) {
        if (dst.maxWritableBytes() < length) {
            throw new IllegalArgumentException("the buffer has room for " + dst.maxWritableBytes() + " of " + length + " bytes");
        }
    }

    private CommandSlot acquire(IoCompletion completion) {
        int cid;
        synchronized (free) {
            if (freeCount == 0) {
                throw new IllegalStateException("queue " + qid + " already has " + slots.length + " commands outstanding");
            }
            cid = free[--freeCount];
        }
        CommandSlot s = slots[cid];
        s.prepare(completion);
        return s;
    }

    private void release(CommandSlot s) {
        synchronized (free) {
            free[freeCount++] = s.cid;
        }
    }

    private void dispatch(CommandSlot s) {
        EventLoop loop = channel.eventLoop();
        if (loop.inEventLoop()) {
            send(s);
            return;
        }
        try {
            loop.execute(s);
        } catch (RejectedExecutionException e) {
            NvmeTransportException f = failure;
            finishFailed(s, f != null ? f : new NvmeTransportException("the event loop of queue " + qid + " has stopped", e));
        }
    }

    /** Sends a command's capsule, with its data if that fits in the capsule. Event loop only. */
    void send(CommandSlot s) {
        NvmeTransportException f = failure;
        if (f != null) {
            finishFailed(s, f);
            return;
        }
        ByteBuf sqe = s.sqe;
        sqe.setShortLE(Sqe.CID, s.cid);
        sqe.setByte(Sqe.FLAGS, (sqe.getUnsignedByte(Sqe.FLAGS) & 0x3F) | PSDT_SGL);
        sqe.setZero(Sqe.SGL_ADDRESS, Sqe.CDW10 - Sqe.SGL_ADDRESS);
        sqe.setIntLE(Sqe.SGL_LENGTH, s.length);
        ByteBuf inCapsule = null;
        if (s.direction == DataDirection.HOST_TO_CONTROLLER && (s.length <= inCapsuleLimit || isConnect(sqe))) {
            sqe.setByte(Sqe.SGL_TYPE, Sqe.SGL_INCAPSULE);
            s.inCapsule = true;
            s.transferred = s.length;
            inCapsule = s.data.retainedSlice(s.data.readerIndex(), s.length);
        } else {
            sqe.setByte(Sqe.SGL_TYPE, Sqe.SGL_TRANSPORT);
        }
        s.state = CommandSlot.SENT;
        writer.writeCapsuleCmd(channel, sqe, 0, inCapsule);
        channel.flush();
    }

    /** Targets take Connect's data only inside the capsule: before Connect they know no host to reserve memory for. */
    private static boolean isConnect(ByteBuf sqe) {
        return sqe.getUnsignedByte(Sqe.OPCODE) == Opcodes.FABRICS && sqe.getUnsignedByte(Sqe.FCTYPE) == Opcodes.FCTYPE_CONNECT;
    }

    private void finish(CommandSlot s, int status, long result) {
        IoCompletion c = s.clear();
        release(s);
        try {
            c.complete(status, result);
        } catch (RuntimeException e) {
            log.warn("Completion of a command on queue {} threw", qid, e);
        }
    }

    private void finishFailed(CommandSlot s, NvmeTransportException cause) {
        IoCompletion c = s.clear();
        release(s);
        try {
            c.failed(cause);
        } catch (RuntimeException e) {
            log.warn("Failure callback of a command on queue {} threw", qid, e);
        }
    }

    // ---- channel events ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(PduWriter.icReq(ctx.alloc(), 0, options.headerDigest(), options.dataDigest(), 0));
        ctx.executor().schedule(() -> {
            if (!initialized.isDone()) {
                fail(new NvmeTransportException("no ICResp on queue " + qid + " from " + channel.remoteAddress()
                        + " within " + options.connectTimeoutMillis() + " ms"));
            }
        }, options.connectTimeoutMillis(), TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(new NvmeTransportException("connection of queue " + qid + " to " + channel.remoteAddress() + " closed"));
        closed.complete(null);
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf pdu = (ByteBuf) msg;
        try {
            if (failure == null) {
                receive(pdu);
            }
        } catch (PduException e) {
            protocolError(e, pdu);
        } finally {
            pdu.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof PduException e) {
            protocolError(e, null);
        } else {
            fail(new NvmeTransportException("connection of queue " + qid + " failed: " + root, root));
        }
    }

    private void receive(ByteBuf pdu) {
        int type = Pdu.type(pdu);
        if (type == Pdu.C2H_TERM_REQ) {
            termReq(pdu);
        } else if (!initialized.isDone()) {
            if (type != Pdu.IC_RESP) {
                throw new PduException(Pdu.FES_PDU_SEQUENCE_ERROR, Pdu.TYPE, Pdu.name(type) + " before ICResp");
            }
            icResp(pdu);
        } else {
            switch (type) {
                case Pdu.CAPSULE_RESP -> capsuleResp(pdu);
                case Pdu.C2H_DATA -> c2hData(pdu);
                case Pdu.R2T -> r2t(pdu);
                default -> throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.TYPE,
                        Pdu.name(type) + " is not expected from a controller");
            }
        }
    }

    private void icResp(ByteBuf pdu) {
        int ri = pdu.readerIndex();
        int pfv = pdu.getUnsignedShortLE(ri + Pdu.IC_PFV);
        int cpda = pdu.getUnsignedByte(ri + Pdu.IC_PDA);
        int digests = pdu.getUnsignedByte(ri + Pdu.IC_DIGEST);
        int maxData = pdu.getIntLE(ri + Pdu.IC_MAXR2T_OR_MAXH2CDATA);
        boolean headerDigest = (digests & Pdu.IC_DIGEST_HEADER) != 0;
        boolean dataDigest = (digests & Pdu.IC_DIGEST_DATA) != 0;
        if (pfv != 0) {
            throw new PduException(Pdu.FES_UNSUPPORTED_PARAMETER, Pdu.IC_PFV, "PDU format version " + pfv);
        }
        if (cpda > 31) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.IC_PDA, "CPDA " + cpda + " out of range");
        }
        if ((headerDigest && !options.headerDigest()) || (dataDigest && !options.dataDigest())) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.IC_DIGEST, "a digest the host did not ask for");
        }
        if (maxData < 4096 || (maxData & 3) != 0) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.IC_MAXR2T_OR_MAXH2CDATA,
                    "MAXH2CDATA " + Integer.toUnsignedString(maxData) + " is not a multiple of 4 of at least 4096");
        }
        writer.negotiated(headerDigest, dataDigest, cpda);
        maxH2CData = maxData;
        initialized.complete(this);
    }

    private CommandSlot sentCommand(int cid, int field, String pdu) {
        CommandSlot s = cid < slots.length ? slots[cid] : null;
        if (s == null || s.state != CommandSlot.SENT) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, field, pdu + " for command " + cid + ", which is not outstanding");
        }
        return s;
    }

    private void capsuleResp(ByteBuf pdu) {
        if (reader.dataIndex(pdu) >= 0) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.PDO, "CapsuleResp with data");
        }
        int ri = pdu.readerIndex();
        CommandSlot s = sentCommand(pdu.getUnsignedShortLE(ri + CQE_CID), CQE_CID, "CapsuleResp");
        int status = pdu.getUnsignedShortLE(ri + CQE_STATUS) >>> 1;
        boolean dataMissing = s.direction == DataDirection.CONTROLLER_TO_HOST && s.transferred != s.length;
        if (Status.isSuccess(status) && (s.dataDigestError || dataMissing)) {
            status = Status.DATA_TRANSFER_ERROR;
        }
        finish(s, status, pdu.getLongLE(ri + CQE_RESULT));
    }

    private void c2hData(ByteBuf pdu) {
        int ri = pdu.readerIndex();
        int flags = Pdu.flags(pdu);
        int offset = pdu.getIntLE(ri + Pdu.DATA_OFFSET);
        int length = pdu.getIntLE(ri + Pdu.DATA_LENGTH);
        int index = reader.dataIndex(pdu);
        CommandSlot s = sentCommand(pdu.getUnsignedShortLE(ri + Pdu.DATA_CCCID), Pdu.DATA_CCCID, "C2HData");
        if (s.direction != DataDirection.CONTROLLER_TO_HOST) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.DATA_CCCID, "C2HData for a command receiving no data");
        }
        if (index < 0 || reader.dataLength() != length) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.DATA_LENGTH, "C2HData carries a length other than DATAL");
        }
        if (offset != s.transferred || (long) offset + length > s.length) {
            throw new PduException(Pdu.FES_DATA_OUT_OF_RANGE, Pdu.DATA_OFFSET, "C2HData at offset "
                    + Integer.toUnsignedString(offset) + " length " + length + " for a transfer of " + s.length
                    + " with " + s.transferred + " received");
        }
        if (!reader.dataDigestMatches(pdu, index)) {
            // As Linux's host: the command fails with a transfer error, the connection carries on.
            log.warn("Data digest mismatch on C2HData of command {} on queue {}", s.cid, qid);
            s.dataDigestError = true;
        } else {
            s.data.writeBytes(pdu, index, length);
        }
        s.transferred += length;
        if ((flags & Pdu.FLAG_DATA_SUCCESS) != 0) {
            if ((flags & Pdu.FLAG_DATA_LAST) == 0 || s.transferred != s.length) {
                throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.FLAGS, "SUCCESS flag before the last data");
            }
            finish(s, s.dataDigestError ? Status.DATA_TRANSFER_ERROR : Status.SUCCESS, 0);
        }
    }

    private void r2t(ByteBuf pdu) {
        if (reader.dataIndex(pdu) >= 0) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.PDO, "R2T with data");
        }
        int ri = pdu.readerIndex();
        CommandSlot s = sentCommand(pdu.getUnsignedShortLE(ri + Pdu.DATA_CCCID), Pdu.DATA_CCCID, "R2T");
        int ttag = pdu.getUnsignedShortLE(ri + Pdu.DATA_TTAG);
        int offset = pdu.getIntLE(ri + Pdu.DATA_OFFSET);
        int length = pdu.getIntLE(ri + Pdu.DATA_LENGTH);
        if (s.direction != DataDirection.HOST_TO_CONTROLLER || s.inCapsule) {
            throw new PduException(Pdu.FES_INVALID_HEADER_FIELD, Pdu.DATA_CCCID, "R2T for a command with no data to send");
        }
        if (offset != s.transferred || length <= 0 || (long) offset + length > s.length) {
            throw new PduException(Pdu.FES_DATA_OUT_OF_RANGE, Pdu.DATA_OFFSET, "R2T for offset "
                    + Integer.toUnsignedString(offset) + " length " + Integer.toUnsignedString(length)
                    + " of a transfer of " + s.length + " with " + s.transferred + " sent");
        }
        int end = offset + length;
        int base = s.data.readerIndex();
        for (int at = offset; at < end; ) {
            int chunk = Math.min(maxH2CData, end - at);
            int flags = at + chunk == end ? Pdu.FLAG_DATA_LAST : 0;
            writer.writeData(channel, Pdu.H2C_DATA, flags, s.cid, ttag, at, s.data.retainedSlice(base + at, chunk));
            at += chunk;
        }
        s.transferred = end;
        channel.flush();
    }

    private void termReq(ByteBuf pdu) {
        int ri = pdu.readerIndex();
        int fes = pdu.getUnsignedShortLE(ri + Pdu.TERM_FES);
        int fei = pdu.getIntLE(ri + Pdu.TERM_FEI);
        fail(new NvmeTransportException(String.format("controller %s terminated queue %d: %s (FES 0x%02x, FEI %d)",
                channel.remoteAddress(), qid, fatalErrorName(fes), fes, fei)));
    }

    /** The controller broke the protocol: tell it with an H2CTermReq, then close. */
    private void protocolError(PduException e, ByteBuf offending) {
        if (failure != null) {
            return;
        }
        log.warn("Terminating queue {} to {}: {} (FES 0x{}, FEI {})", qid, channel.remoteAddress(), e.getMessage(),
                Integer.toHexString(e.fes()), e.fei());
        ByteBuf header = offending == null ? null
                : offending.slice(offending.readerIndex(), Math.min(offending.readableBytes(), Pdu.hlen(offending)));
        channel.writeAndFlush(PduWriter.termReq(channel.alloc(), Pdu.H2C_TERM_REQ, e.fes(), e.fei(), header))
                .addListener(ChannelFutureListener.CLOSE);
        failCommands(new NvmeTransportException("protocol error from controller " + channel.remoteAddress()
                + " on queue " + qid + ": " + e.getMessage() + "; connection terminated"));
    }

    /** The connection is done for: every outstanding command fails with {@code cause}. Event loop only. */
    private void fail(NvmeTransportException cause) {
        failCommands(cause);
        channel.close();
    }

    private void failCommands(NvmeTransportException cause) {
        if (failure == null) {
            failure = cause;
        }
        initialized.completeExceptionally(failure);
        for (CommandSlot s : slots) {
            if (s.state == CommandSlot.SENT) {
                finishFailed(s, failure);
            }
        }
    }

    private static String fatalErrorName(int fes) {
        return switch (fes) {
            case Pdu.FES_INVALID_HEADER_FIELD -> "invalid PDU header field";
            case Pdu.FES_PDU_SEQUENCE_ERROR -> "PDU sequence error";
            case Pdu.FES_HEADER_DIGEST_ERROR -> "header digest error";
            case Pdu.FES_DATA_OUT_OF_RANGE -> "data transfer out of range";
            case Pdu.FES_DATA_LIMIT_EXCEEDED -> "data transfer limit exceeded";
            case Pdu.FES_UNSUPPORTED_PARAMETER -> "unsupported parameter";
            default -> "unknown fatal error";
        };
    }
}
