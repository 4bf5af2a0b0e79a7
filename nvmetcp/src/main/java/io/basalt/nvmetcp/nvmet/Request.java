package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Sqe;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;

/**
 * One command in flight on a queue. A queue owns a fixed set of these, reused for every command,
 * so the I/O path allocates nothing but pooled data buffers (and, for a write whose data comes in
 * several parts, the composite that joins them: see {@link WriteData}). The index doubles as the transfer tag
 * (TTAG) that R2T and H2CData carry.
 */
final class Request implements IoCallback, Runnable, ChannelFutureListener {
    final TargetQueue queue;
    final int index;
    /** The submission queue entry, copied out of the capsule. */
    final ByteBuf sqe = Unpooled.buffer(Sqe.SIZE, Sqe.SIZE);
    int cid;
    /** Host-to-controller data (writes) or controller-to-host data (reads, identify, logs). */
    ByteBuf data;
    /** Bytes the command transfers, from its SGL. */
    int transferLength;
    /** Write data received through H2CData, until all of it has come and it becomes {@link #data}. */
    final WriteData writeData = new WriteData();
    /** Host-to-controller bytes received so far through H2CData. */
    int received;
    /** Bytes of the queue's and the node's data budget this command holds, returned on release. */
    int reservedBytes;
    /** The command's data came inside its capsule (held by {@link #writeData} until it runs). */
    boolean inCapsuleData;
    /** An R2T was sent and not all of its data has come. */
    boolean awaitingData;
    /** The queue's tick when the R2T was sent, for the data timeout. */
    long awaitingSinceTick;
    int status;
    int dw0;
    int dw1;
    long startNanos;
    /** The namespace an I/O command addresses, for its observer. */
    Namespace namespace;
    boolean inUse;
    /** {@link #complete} was called: the command's outcome is decided. */
    boolean completed;
    /** The device's adapter of this slot (see {@link IoCallback#adapter()}): kept across commands. */
    private Object adapter;

    Request(TargetQueue queue, int index) {
        this.queue = queue;
        this.index = index;
    }

    /** Sets completion dword 0 (the command specific result). */
    void result(int dw0) {
        this.dw0 = dw0;
    }

    void result(int dw0, int dw1) {
        this.dw0 = dw0;
        this.dw1 = dw1;
    }

    /** Completes the command; may be called from any thread, once. */
    @Override
    public void complete(int status) {
        this.status = status;
        this.completed = true;
        if (queue.inEventLoop()) {
            queue.finish(this);
        } else {
            queue.execute(this);
        }
    }

    @Override
    public Object adapter() {
        return adapter;
    }

    @Override
    public void adapter(Object adapter) {
        this.adapter = adapter;
    }

    @Override
    public long commandDwords2And3() {
        return sqe.getLongLE(Sqe.CDW2);
    }

    @Override
    public void run() {
        queue.finish(this);
    }

    /** The command's last PDU is on the wire (or the connection is gone): its slot and data bytes return. */
    @Override
    public void operationComplete(ChannelFuture future) {
        queue.sent(this);
    }

    void reset() {
        if (data != null) {
            data.release();
            data = null;
        }
        writeData.release();
        transferLength = 0;
        received = 0;
        inCapsuleData = false;
        awaitingData = false;
        completed = false;
        status = 0;
        dw0 = 0;
        dw1 = 0;
        namespace = null;
        inUse = false;
    }
}
