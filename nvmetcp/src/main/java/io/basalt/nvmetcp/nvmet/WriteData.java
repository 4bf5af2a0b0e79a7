package io.basalt.nvmetcp.nvmet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;

/**
 * The data of one write, gathered from its H2CData PDUs (which arrive in order) into the buffer that
 * goes to the device, without copying what is large: a payload of at least {@link #SLICE_MIN} bytes
 * is kept as a slice of the received PDU, smaller ones are copied into one buffer of the transfer's
 * length (allocated at the first small payload, so within the bytes reserved for the command).
 * <p>
 * A slice keeps the socket's receive buffers it lies in alive, at most its own length plus one such
 * buffer at each end; payloads of at least {@code SLICE_MIN} bound that to a small multiple of the
 * command's reserved bytes however a host cuts its data, and bound the parts of a transfer of L
 * bytes to {@code 2 L / SLICE_MIN + 1}. One per command slot, reused; event loop only.
 */
final class WriteData {
    /** Smallest payload kept as a slice instead of copied. */
    static final int SLICE_MIN = 16 * 1024;

    /** The only part so far, or null. */
    private ByteBuf single;
    /** Every part, once there is more than one. */
    private CompositeByteBuf parts;
    /** The small payloads, each at its offset of the transfer. */
    private ByteBuf copies;
    /** Transfer offset where the copied payloads not yet among the parts begin, or -1. */
    private int copiedFrom = -1;
    /** Bytes gathered so far. */
    private int length;

    /** Adds {@code n} bytes of {@code pdu} at {@code index}: the next bytes of a transfer of {@code transferLength}. */
    void add(ByteBufAllocator alloc, ByteBuf pdu, int index, int n, int transferLength) {
        if (n >= SLICE_MIN) {
            addCopiedRun(alloc, transferLength);
            addPart(alloc, pdu.retainedSlice(index, n), transferLength);
        } else {
            if (copies == null) {
                copies = alloc.directBuffer(transferLength, transferLength);
            }
            if (copiedFrom < 0) {
                copiedFrom = length;
            }
            copies.setBytes(length, pdu, index, n);
        }
        length += n;
    }

    /** The gathered data, which the caller now owns; this is empty again. */
    ByteBuf take(ByteBufAllocator alloc, int transferLength) {
        addCopiedRun(alloc, transferLength);
        ByteBuf data = parts != null ? parts : single;
        parts = null;
        single = null;
        release();
        return data;
    }

    /** Releases whatever was gathered (the connection closed before the data was complete). */
    void release() {
        if (single != null) {
            single.release();
            single = null;
        }
        if (parts != null) {
            parts.release();
            parts = null;
        }
        if (copies != null) {
            copies.release();
            copies = null;
        }
        copiedFrom = -1;
        length = 0;
    }

    private void addCopiedRun(ByteBufAllocator alloc, int transferLength) {
        if (copiedFrom >= 0) {
            addPart(alloc, copies.retainedSlice(copiedFrom, length - copiedFrom), transferLength);
            copiedFrom = -1;
        }
    }

    private void addPart(ByteBufAllocator alloc, ByteBuf part, int transferLength) {
        if (single == null && parts == null) {
            single = part;
            return;
        }
        if (parts == null) {
            // Never more parts than this, so the composite never consolidates (copies) them.
            parts = alloc.compositeDirectBuffer(2 * (transferLength / SLICE_MIN) + 2);
            parts.addComponent(true, single);
            single = null;
        }
        parts.addComponent(true, part);
    }
}
