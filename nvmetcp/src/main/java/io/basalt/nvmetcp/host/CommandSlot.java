package io.basalt.nvmetcp.host;

import io.basalt.nvmetcp.nvme.DataDirection;
import io.basalt.nvmetcp.nvme.Sqe;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * One command identifier of a {@link HostQueue} and the state of the command using it. A queue owns a
 * fixed set of these, reused for every command, so the I/O path allocates nothing but pooled PDU
 * buffers. It is the task that hands a command submitted on another thread to the event loop.
 */
final class CommandSlot implements Runnable {
    static final int FREE = 0;
    /** Acquired by a submitter, waiting for the event loop to send it. */
    static final int QUEUED = 1;
    static final int SENT = 2;

    final HostQueue queue;
    final int cid;
    final ByteBuf sqe = Unpooled.buffer(Sqe.SIZE, Sqe.SIZE);
    int state = FREE;
    IoCompletion completion;
    int direction;
    /** Data to send, or the buffer that receives data (appended at its writer index). */
    ByteBuf data;
    /** Whether {@link #data} is the queue's own buffer, released on completion. */
    boolean ownsData;
    int length;
    /** Bytes sent (in-capsule or through H2CData) or received (through C2HData) so far. */
    int transferred;
    boolean inCapsule;
    /** A C2HData PDU of this command failed its data digest: it completes with a transfer error. */
    boolean dataDigestError;

    CommandSlot(HostQueue queue, int cid) {
        this.queue = queue;
        this.cid = cid;
    }

    /** Claims the slot for a command: a zeroed entry and no data yet. */
    void prepare(IoCompletion completion) {
        this.completion = completion;
        sqe.setIndex(0, Sqe.SIZE).setZero(0, Sqe.SIZE);
        direction = DataDirection.NONE;
        data = null;
        ownsData = false;
        length = 0;
        transferred = 0;
        inCapsule = false;
        dataDigestError = false;
        state = QUEUED;
    }

    void transfer(int direction, ByteBuf data, int length, boolean ownsData) {
        this.direction = length == 0 ? DataDirection.NONE : direction;
        this.data = data;
        this.length = length;
        this.ownsData = ownsData;
    }

    /** Drops the command's references; returns its completion. */
    IoCompletion clear() {
        IoCompletion c = completion;
        if (ownsData && data != null) {
            data.release();
        }
        completion = null;
        data = null;
        state = FREE;
        return c;
    }

    @Override
    public void run() {
        queue.send(this);
    }
}
