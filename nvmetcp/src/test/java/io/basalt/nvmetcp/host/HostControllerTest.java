package io.basalt.nvmetcp.host;

import io.basalt.nvmetcp.protocol.IoResult;
import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Connecting fails cleanly, within the connect timeout, when there is no usable controller. */
class HostControllerTest {
    private static final String SUBNQN = "nqn.2026-11.io.basalt:anything";
    private final NioEventLoopGroup group = new NioEventLoopGroup(1);

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void silentPeerTimesOutWithinTheConnectTimeout() throws IOException {
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            HostOptions options = HostOptions.defaults(ScriptedController.HOST_NQN).withConnectTimeout(300);
            long start = System.nanoTime();
            Throwable e = IoResult.failure(HostController.connect(group, options, "127.0.0.1", silent.getLocalPort(), SUBNQN));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertInstanceOf(NvmeTransportException.class, e);
            assertTrue(e.getMessage().contains("300 ms"), e.getMessage());
            assertTrue(millis < 3000, "gave up after " + millis + " ms");
            try (Socket accepted = silent.accept()) {
                accepted.setSoTimeout(3000);
                int icReqLength = 128;
                assertEquals(icReqLength, accepted.getInputStream().readNBytes(icReqLength + 1).length,
                        "the host sent its ICReq, then closed the connection");
            }
        }
    }

    @Test
    void refusedConnectionFailsWithTheAddress() throws IOException {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        Throwable e = IoResult.failure(HostController.connect(group,
                HostOptions.defaults(ScriptedController.HOST_NQN), "127.0.0.1", port, SUBNQN));
        assertInstanceOf(NvmeTransportException.class, e);
        assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
    }
}
