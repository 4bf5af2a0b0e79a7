package io.basalt.attach.nbd;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.host.IoCompletion;
import io.basalt.nvmetcp.host.NvmeTransportException;
import io.netty.buffer.ByteBuf;

/**
 * One NBD request carried out as NVMe commands, one at a time: reads and writes in pieces of at most
 * the target's transfer size, trims and zeroing in ranges NVMe can count, and a Flush after a trim or
 * zeroing asked to be durable (NVMe has no FUA for Deallocate, and this host sends none with Write
 * Zeroes). A piece that fails with a transport error goes back to the {@link NamespaceSession}, which
 * issues it again on the next connection; an NVMe status ends the request.
 */
final class BridgedRequest implements IoCompletion {
    private final NbdRequest request;
    private final ByteBuf readData;
    private final NamespaceSession session;
    private final RequestOutcome outcome;
    /** Bytes of the request done so far. */
    private long done;
    private int pieceBytes;
    private boolean flushAfterRange;
    private long waitingSinceNanos;
    /** The session's connection the current piece went out on, so that a late failure from an old one is told apart. */
    private int connection;

    /** @param readData where a read's data goes (owned by the caller), else null */
    BridgedRequest(NbdRequest request, ByteBuf readData, NamespaceSession session, RequestOutcome outcome) {
        this.request = request;
        this.readData = readData;
        this.session = session;
        this.outcome = outcome;
        this.flushAfterRange = request.fua()
                && (request.type() == NbdProtocol.CMD_TRIM || request.type() == NbdProtocol.CMD_WRITE_ZEROES);
    }

    NbdRequest request() {
        return request;
    }

    ByteBuf readData() {
        return readData;
    }

    /** When this request started waiting for a connection; kept across retries so that the outage deadline holds. */
    long waitingSinceNanos() {
        return waitingSinceNanos;
    }

    void startWaiting(long nanos) {
        if (waitingSinceNanos == 0) {
            waitingSinceNanos = nanos;
        }
    }

    int connection() {
        return connection;
    }

    private void stopWaiting() {
        waitingSinceNanos = 0;
    }

    /** Issues the next NVMe command of this request; requests of no length never get here. */
    void issueNext(HostController controller, int connection, int nsid, ExportGeometry geometry) {
        this.connection = connection;
        int blockSize = geometry.blockSize();
        long remaining = request.length() - done;
        long lba = (request.offset() + done) / blockSize;
        switch (request.type()) {
            case NbdProtocol.CMD_READ -> {
                pieceBytes = (int) Math.min(remaining, geometry.maxTransferBytes());
                ByteBuf piece = readData.slice((int) done, pieceBytes).writerIndex(0);
                controller.read(nsid, lba, pieceBytes / blockSize, piece, this);
            }
            case NbdProtocol.CMD_WRITE -> {
                pieceBytes = (int) Math.min(remaining, geometry.maxTransferBytes());
                ByteBuf piece = request.payload().slice((int) done, pieceBytes);
                controller.write(nsid, lba, pieceBytes / blockSize, piece, request.fua(), this);
            }
            case NbdProtocol.CMD_FLUSH -> controller.flush(nsid, this);
            case NbdProtocol.CMD_TRIM, NbdProtocol.CMD_WRITE_ZEROES -> {
                if (remaining == 0) {
                    pieceBytes = 0; // the range is done; the Flush that makes it durable is left
                    controller.flush(nsid, this);
                    return;
                }
                pieceBytes = (int) Math.min(remaining, geometry.maxRangeBytes());
                if (request.type() == NbdProtocol.CMD_TRIM) {
                    controller.deallocate(nsid, lba, pieceBytes / blockSize, this);
                } else {
                    controller.writeZeroes(nsid, lba, pieceBytes / blockSize, this);
                }
            }
            default -> throw new IllegalStateException("request type " + request.type() + " was not validated");
        }
    }

    @Override
    public void complete(int status, long result) {
        stopWaiting();
        if (status != 0) {
            session.pieceFinished();
            outcome.finished(this, NbdProtocol.EIO);
            return;
        }
        if (pieceBytes == 0) {
            flushAfterRange = false; // a Flush, on its own or after a range, has just completed
        }
        done += pieceBytes;
        session.pieceFinished();
        if (done < request.length() || flushAfterRange) {
            session.execute(this);
        } else {
            if (readData != null) {
                readData.writerIndex((int) done); // the pieces were read into slices, which leave it untouched
            }
            outcome.finished(this, NbdProtocol.OK);
        }
    }

    @Override
    public void failed(NvmeTransportException cause) {
        session.pieceFailed(this, cause);
    }

    /** The session gave up on it: EIO when no connection came back in time, ESHUTDOWN when the bridge closes. */
    void abandon(int error) {
        outcome.finished(this, error);
    }
}
