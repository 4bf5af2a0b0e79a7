package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.Commands;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.pdu.Pdu;
import io.netty.buffer.ByteBuf;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

/**
 * One queue of a host that speaks NVMe/TCP by hand over a blocking socket, without digests: for
 * attacks a well-behaved host would never make (pipelines it does not read, PDUs out of order).
 */
final class RawQueue implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;

    RawQueue(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout((int) (IoResult.TIMEOUT_SECONDS * 1000));
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
    }

    static byte[] icReq() {
        ByteBuffer b = header(Pdu.IC_REQ, 0, Pdu.IC_LENGTH, 0, Pdu.IC_LENGTH);
        return b.array();
    }

    /** A CapsuleCmd PDU: {@code sqe}'s 64 bytes and, if given, in-capsule data. */
    static byte[] capsule(ByteBuf sqe, byte[] inCapsule) {
        int data = inCapsule == null ? 0 : inCapsule.length;
        int hlen = Pdu.CAPSULE_CMD_HEADER_LENGTH;
        ByteBuffer b = header(Pdu.CAPSULE_CMD, 0, hlen, data > 0 ? hlen : 0, hlen + data);
        byte[] entry = new byte[Sqe.SIZE];
        sqe.getBytes(sqe.readerIndex(), entry);
        b.position(Pdu.COMMON_HEADER_LENGTH);
        b.put(entry);
        if (data > 0) {
            b.put(inCapsule);
        }
        return b.array();
    }

    private static ByteBuffer header(int type, int flags, int hlen, int pdo, int plen) {
        ByteBuffer b = ByteBuffer.allocate(plen).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) type).put(1, (byte) flags).put(2, (byte) hlen).put(3, (byte) pdo).putInt(4, plen);
        return b;
    }

    void send(byte[] bytes) throws IOException {
        sendRange(bytes, 0, bytes.length);
    }

    void sendRange(byte[] bytes, int offset, int length) throws IOException {
        out.write(bytes, offset, length);
        out.flush();
    }

    Socket socket() {
        return socket;
    }

    /** Reads and drops whatever the target sends until it closes the connection. */
    void drainUntilClosed() throws IOException {
        byte[] buffer = new byte[8192];
        while (in.read(buffer) >= 0) {
            // the answers do not matter, only that the target ends the connection
        }
    }

    /** The next whole PDU from the target. */
    ByteBuffer receive() throws IOException {
        byte[] common = new byte[Pdu.COMMON_HEADER_LENGTH];
        in.readFully(common);
        int plen = ByteBuffer.wrap(common).order(ByteOrder.LITTLE_ENDIAN).getInt(Pdu.PLEN);
        byte[] pdu = new byte[plen];
        System.arraycopy(common, 0, pdu, 0, common.length);
        in.readFully(pdu, common.length, plen - common.length);
        return ByteBuffer.wrap(pdu).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** ICReq, then Connect of I/O queue {@code qid} of controller {@code cntlid}; returns the Connect status. */
    int connectIo(String subnqn, String hostNqn, UUID hostId, int cntlid, int qid, int queueSize) throws IOException {
        send(icReq());
        if (receive().get(Pdu.TYPE) != Pdu.IC_RESP) {
            throw new IOException("expected ICResp");
        }
        ByteBuf connect = Commands.connect(qid, queueSize, 0, false);
        ByteBuf data = Commands.connectData(hostId, cntlid, subnqn, hostNqn);
        try {
            connect.setByte(Sqe.SGL_TYPE, Sqe.SGL_INCAPSULE);
            connect.setIntLE(Sqe.SGL_LENGTH, Commands.CONNECT_DATA_LENGTH);
            byte[] connectData = new byte[Commands.CONNECT_DATA_LENGTH];
            data.getBytes(0, connectData);
            send(capsule(connect, connectData));
        } finally {
            connect.release();
            data.release();
        }
        ByteBuffer resp = receive();
        return (resp.getShort(22) & 0xFFFF) >> 1;
    }

    /** A read or write SQE of {@code blocks} with its data through the transport (R2T or C2HData). */
    static ByteBuf readWrite(int opcode, int cid, int nsid, long lba, int blocks, int bytes) {
        ByteBuf sqe = Commands.newSqe(opcode);
        Commands.readWrite(sqe, opcode, nsid, lba, blocks, false);
        sqe.setShortLE(Sqe.CID, cid);
        sqe.setByte(Sqe.FLAGS, 0x40); // PSDT: SGL
        sqe.setByte(Sqe.SGL_TYPE, Sqe.SGL_TRANSPORT);
        sqe.setIntLE(Sqe.SGL_LENGTH, bytes);
        return sqe;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
