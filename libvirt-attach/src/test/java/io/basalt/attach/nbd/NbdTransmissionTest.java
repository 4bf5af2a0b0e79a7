package io.basalt.attach.nbd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transmission phase against a raw client, checked against the target's device. */
@Timeout(30)
class NbdTransmissionTest extends BridgeOverLiveTarget {

    private static RawNbdClient client() throws IOException {
        RawNbdClient client = RawNbdClient.connect(bridge.socketPath());
        client.negotiate();
        return client;
    }

    @Test
    void writeThenReadRoundTripsThroughTheTarget() throws IOException {
        byte[] data = RawNbdClient.pattern(64 * 1024, 1);
        try (RawNbdClient client = client()) {
            RawNbdClient.SimpleReply written = client.write(11, 1 << 20, data);
            assertEquals(0, written.error());
            assertEquals(11, written.cookie());
            RawNbdClient.SimpleReply read = client.read(12, 1 << 20, data.length);
            assertEquals(0, read.error());
            assertEquals(12, read.cookie());
            assertArrayEquals(data, read.data());
        }
        assertArrayEquals(data, target.device.contents(1 << 20, data.length), "the data reached the namespace");
    }

    @Test
    void requestsLargerThanTheTransferSizeAreSplit() throws IOException {
        byte[] data = RawNbdClient.pattern(3 * RestartableTarget.MAX_TRANSFER + 512, 2);
        try (RawNbdClient client = client()) {
            client.sendRequest(NbdProtocol.CMD_FLAG_FUA, NbdProtocol.CMD_WRITE, 21, 4 << 20, data.length, data);
            assertEquals(0, client.readReply(0).error());
            assertArrayEquals(data, client.read(22, 4 << 20, data.length).data());
        }
    }

    @Test
    void pipelinedRequestsAreAllAnsweredByCookie() throws IOException {
        Map<Long, byte[]> expected = new HashMap<>();
        try (RawNbdClient client = client()) {
            for (int i = 0; i < 32; i++) {
                byte[] data = RawNbdClient.pattern(8192, 100 + i);
                expected.put((long) i, data);
                client.sendRequest(0, NbdProtocol.CMD_WRITE, i, (8L << 20) + i * 8192L, data.length, data);
            }
            for (int i = 0; i < 32; i++) {
                RawNbdClient.SimpleReply reply = client.readReply(0);
                assertEquals(0, reply.error());
                assertTrue(expected.remove(reply.cookie()) != null, "unexpected cookie " + reply.cookie());
            }
        }
        assertTrue(expected.isEmpty());
    }

    @Test
    void trimAndWriteZeroesReadBackAsZeros() throws IOException {
        try (RawNbdClient client = client()) {
            client.write(31, 2 << 20, RawNbdClient.pattern(8192, 3));
            client.sendRequest(0, NbdProtocol.CMD_TRIM, 32, 2 << 20, 4096, null);
            assertEquals(0, client.readReply(0).error());
            client.sendRequest(NbdProtocol.CMD_FLAG_FUA, NbdProtocol.CMD_WRITE_ZEROES, 33, (2 << 20) + 4096, 4096, null);
            assertEquals(0, client.readReply(0).error());
            client.sendRequest(0, NbdProtocol.CMD_FLUSH, 34, 0, 0, null);
            assertEquals(0, client.readReply(0).error());
            assertArrayEquals(new byte[8192], client.read(35, 2 << 20, 8192).data());
        }
    }

    @Test
    void outOfRangeAndUnalignedRequestsFailWithEinval() throws IOException {
        try (RawNbdClient client = client()) {
            assertEquals(NbdProtocol.EINVAL, client.read(41, RestartableTarget.SIZE - 512, 1024).error());
            assertEquals(NbdProtocol.EINVAL, client.read(42, -512, 512).error(), "an offset past 2^63");
            assertEquals(NbdProtocol.EINVAL, client.write(43, 100, new byte[512]).error());
            assertEquals(NbdProtocol.EINVAL, client.read(44, 0, 100).error());
            client.sendRequest(0, NbdProtocol.CMD_TRIM, 45, RestartableTarget.SIZE, 512, null);
            assertEquals(NbdProtocol.EINVAL, client.readReply(0).error());
            client.sendRequest(0, 99, 46, 0, 0, null);
            assertEquals(NbdProtocol.EINVAL, client.readReply(0).error(), "an unknown command");
            assertEquals(0, client.read(47, RestartableTarget.SIZE - 512, 512).error(), "the connection still works");
        }
    }

    @Test
    void anNvmeErrorFailsTheRequestWithEioWithoutRetrying() throws IOException {
        try (RawNbdClient client = client()) {
            target.device.failWrites(1);
            assertEquals(NbdProtocol.EIO, client.write(71, 0, new byte[4096]).error());
            assertEquals(0, client.write(72, 0, new byte[4096]).error(), "the next write is unaffected");
        }
    }

    @Test
    void badRequestMagicClosesTheConnection() throws IOException {
        try (RawNbdClient client = client()) {
            client.sendRequest(0x12345678, 0, NbdProtocol.CMD_READ, 51, 0, 512, null);
            assertTrue(client.closedByServer());
        }
    }

    @Test
    void disconnectClosesAfterAnsweringEarlierRequests() throws IOException {
        try (RawNbdClient client = client()) {
            client.sendRequest(0, NbdProtocol.CMD_READ, 61, 0, 4096, null);
            client.sendRequest(0, NbdProtocol.CMD_DISC, 62, 0, 0, null);
            assertEquals(61, client.readReply(4096).cookie());
            assertTrue(client.closedByServer());
        }
    }
}
