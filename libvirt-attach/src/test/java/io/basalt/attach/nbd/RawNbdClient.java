package io.basalt.attach.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An NBD client written against the protocol document byte by byte, so that the tests check the
 * server's framing rather than share its code. Blocking; tests bound it with {@code @Timeout}, whose
 * interrupt closes the channel.
 */
final class RawNbdClient implements AutoCloseable {
    static final int REPLY_HEADER = 16;
    private final SocketChannel channel;

    record OptionReply(int option, int type, ByteBuffer data) {
    }

    record SimpleReply(int error, long cookie, byte[] data) {
    }

    private RawNbdClient(SocketChannel channel) {
        this.channel = channel;
    }

    static RawNbdClient connect(Path socket) throws IOException {
        return new RawNbdClient(SocketChannel.open(UnixDomainSocketAddress.of(socket)));
    }

    /** Reads the greeting and returns the handshake flags. */
    int readGreeting() throws IOException {
        ByteBuffer greeting = readRaw(18);
        assertEquals(NbdProtocol.NBDMAGIC, greeting.getLong(), "NBDMAGIC");
        assertEquals(NbdProtocol.IHAVEOPT, greeting.getLong(), "IHAVEOPT");
        return greeting.getShort() & 0xFFFF;
    }

    void sendClientFlags(int flags) throws IOException {
        write(ByteBuffer.allocate(4).putInt(flags).flip());
    }

    void sendOption(long magic, int option, byte[] data) throws IOException {
        write(ByteBuffer.allocate(16 + data.length).putLong(magic).putInt(option).putInt(data.length).put(data).flip());
    }

    void sendOption(int option, byte[] data) throws IOException {
        sendOption(NbdProtocol.IHAVEOPT, option, data);
    }

    OptionReply readOptionReply() throws IOException {
        ByteBuffer header = readRaw(20);
        assertEquals(NbdProtocol.OPTION_REPLY_MAGIC, header.getLong(), "option reply magic");
        int option = header.getInt();
        int type = header.getInt();
        return new OptionReply(option, type, readRaw(header.getInt()));
    }

    /** The data of NBD_OPT_GO / NBD_OPT_INFO: the empty export name and the info types asked for. */
    static byte[] infoRequest(int... infos) {
        ByteBuffer data = ByteBuffer.allocate(6 + 2 * infos.length).putInt(0).putShort((short) infos.length);
        for (int info : infos) {
            data.putShort((short) info);
        }
        return data.array();
    }

    /** Negotiates with NBD_OPT_GO, skipping the replies up to its ACK. */
    void negotiate() throws IOException {
        readGreeting();
        sendClientFlags(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES);
        sendOption(NbdProtocol.OPT_GO, infoRequest(NbdProtocol.INFO_BLOCK_SIZE));
        OptionReply reply;
        do {
            reply = readOptionReply();
        } while (reply.type() == NbdProtocol.REP_INFO);
        assertEquals(NbdProtocol.REP_ACK, reply.type(), "reply to NBD_OPT_GO");
    }

    void sendRequest(int magic, int flags, int type, long cookie, long offset, int length, byte[] data)
            throws IOException {
        ByteBuffer request = ByteBuffer.allocate(28 + (data == null ? 0 : data.length))
                .putInt(magic).putShort((short) flags).putShort((short) type).putLong(cookie).putLong(offset)
                .putInt(length);
        if (data != null) {
            request.put(data);
        }
        write(request.flip());
    }

    void sendRequest(int flags, int type, long cookie, long offset, int length, byte[] data) throws IOException {
        sendRequest(NbdProtocol.REQUEST_MAGIC, flags, type, cookie, offset, length, data);
    }

    /** Reads a simple reply; a successful read's reply carries {@code readLength} bytes. */
    SimpleReply readReply(int readLength) throws IOException {
        ByteBuffer header = readRaw(REPLY_HEADER);
        assertEquals(NbdProtocol.SIMPLE_REPLY_MAGIC, header.getInt(), "simple reply magic");
        int error = header.getInt();
        long cookie = header.getLong();
        byte[] data = new byte[error == 0 ? readLength : 0];
        readRaw(data.length).get(data);
        return new SimpleReply(error, cookie, data);
    }

    SimpleReply write(long cookie, long offset, byte[] data) throws IOException {
        sendRequest(0, NbdProtocol.CMD_WRITE, cookie, offset, data.length, data);
        return readReply(0);
    }

    SimpleReply read(long cookie, long offset, int length) throws IOException {
        sendRequest(0, NbdProtocol.CMD_READ, cookie, offset, length, null);
        return readReply(length);
    }

    /** Whether the server closed the connection (after discarding whatever it still sends). */
    boolean closedByServer() throws IOException {
        ByteBuffer sink = ByteBuffer.allocate(4096);
        try {
            while (channel.read(sink.clear()) >= 0) {
                // drain until end of stream
            }
            return true;
        } catch (IOException reset) {
            return reset.getMessage() != null && reset.getMessage().contains("reset");
        }
    }

    /** Exactly {@code length} bytes. */
    ByteBuffer readRaw(int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new EOFException("the server closed the connection with " + buffer.remaining() + " of "
                        + length + " bytes unread");
            }
        }
        return buffer.flip();
    }

    private void write(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    static byte[] pattern(int length, int seed) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            data[i] = (byte) (i * 31 + seed + (i >>> 9));
        }
        return data;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
