package io.basalt.nvmetcp.protocol;

import io.basalt.nvmetcp.host.HostController;
import io.basalt.nvmetcp.pdu.Pdu;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.stream.Stream;

import static io.basalt.nvmetcp.nvme.Status.SUCCESS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Malformed and hostile byte streams from raw sockets: each connection gets a C2HTermReq naming the
 * fault and is closed by the target, while a well-behaved host on the same target keeps doing I/O
 * and its data stays intact.
 */
class HostileInputTest {
    private static final int PATTERN_BLOCKS = 64;
    private static LiveTarget live;
    private static HostController good;
    private static byte[] pattern;

    @BeforeAll
    static void start() {
        live = LiveTarget.start();
        good = live.connect(LiveTarget.hostOptions());
        pattern = new byte[PATTERN_BLOCKS * 512];
        new Random(7).nextBytes(pattern);
        ByteBuf src = PooledByteBufAllocator.DEFAULT.directBuffer(pattern.length).writeBytes(pattern);
        try {
            IoResult written = new IoResult();
            good.write(1, 0, PATTERN_BLOCKS, src, false, written);
            assertEquals(SUCCESS, written.status());
        } finally {
            src.release();
        }
    }

    @AfterAll
    static void stop() {
        live.close();
    }

    private static ByteBuffer pdu(int type, int flags, int hlen, int pdo, long plen, int totalBytes) {
        ByteBuffer b = ByteBuffer.allocate(totalBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) type).put((byte) flags).put((byte) hlen).put((byte) pdo).putInt((int) plen);
        return b;
    }

    private static byte[] icReq() {
        return pdu(Pdu.IC_REQ, 0, 128, 0, 128, 128).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static Stream<Arguments> hostileStreams() {
        byte[] garbage = new byte[256];
        new Random(3).nextBytes(garbage);
        garbage[0] = 0x55; // no such PDU type
        return Stream.of(
                Arguments.of("random bytes", garbage, Pdu.FES_INVALID_HEADER_FIELD, false),
                Arguments.of("capsule before ICReq", pdu(Pdu.CAPSULE_CMD, 0, 72, 0, 72, 72).array(),
                        Pdu.FES_PDU_SEQUENCE_ERROR, false),
                Arguments.of("PLEN of 2 GiB", concat(icReq(), pdu(Pdu.CAPSULE_CMD, 0, 72, 0, 0x7FFFFFFFL, 72).array()),
                        Pdu.FES_INVALID_HEADER_FIELD, true),
                Arguments.of("wrong HLEN", concat(icReq(), pdu(Pdu.CAPSULE_CMD, 0, 64, 0, 72, 72).array()),
                        Pdu.FES_INVALID_HEADER_FIELD, true),
                Arguments.of("H2CData nobody asked for", concat(icReq(), pdu(Pdu.H2C_DATA, 0, 24, 24, 24 + 512, 24 + 512).array()),
                        Pdu.FES_INVALID_HEADER_FIELD, true),
                Arguments.of("controller-to-host PDU from a host", concat(icReq(), pdu(Pdu.R2T, 0, 24, 0, 24, 24).array()),
                        Pdu.FES_INVALID_HEADER_FIELD, true),
                Arguments.of("unsupported protocol version", pdu(Pdu.IC_REQ, 0, 128, 0, 128, 128).putShort(8, (short) 7).array(),
                        Pdu.FES_UNSUPPORTED_PARAMETER, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileStreams")
    void endsOnlyTheOffendingConnection(String name, byte[] stream, int expectedFes, boolean initialized) throws IOException {
        byte[] answer;
        try (Socket socket = new Socket("127.0.0.1", live.port)) {
            socket.setSoTimeout((int) (IoResult.TIMEOUT_SECONDS * 1000));
            socket.getOutputStream().write(stream);
            socket.getOutputStream().flush();
            answer = readUntilClosed(socket.getInputStream());
        }
        ByteBuffer in = ByteBuffer.wrap(answer).order(ByteOrder.LITTLE_ENDIAN);
        if (initialized) {
            assertEquals(Pdu.IC_RESP, in.get(0), "ICResp first");
            in.position(128);
        }
        assertTrue(in.remaining() >= 24, name + ": expected a C2HTermReq, got " + in.remaining() + " bytes");
        int termStart = in.position();
        assertEquals(Pdu.C2H_TERM_REQ, in.get(termStart), name + ": PDU type");
        assertEquals(expectedFes, in.getShort(termStart + Pdu.TERM_FES), name + ": FES");
        assertEquals(in.getInt(termStart + Pdu.PLEN), in.remaining(), name + ": nothing after the TermReq");

        ByteBuf dst = PooledByteBufAllocator.DEFAULT.directBuffer(pattern.length);
        try {
            IoResult read = new IoResult();
            good.read(1, 0, PATTERN_BLOCKS, dst, read);
            assertEquals(SUCCESS, read.status(), "the well-behaved host still reads");
            assertArrayEquals(pattern, ByteBufUtil.getBytes(dst));
        } finally {
            dst.release();
        }
        int goodConnections = 1 + good.ioQueueCount();
        LiveTarget.eventually("only the well-behaved host's connections remain",
                () -> live.target.connectionCount() == goodConnections);
    }

    /** Reads until the target closes the connection (bounded by the socket timeout). */
    private static byte[] readUntilClosed(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        int n;
        while ((n = in.read(buf)) >= 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }
}
