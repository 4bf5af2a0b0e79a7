package io.basalt.attach.nbd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The negotiation phase against a raw client. */
@Timeout(30)
class NbdHandshakeTest extends BridgeOverLiveTarget {

    @Test
    void greetsWithFixedNewstyleAndNoZeroes() throws IOException {
        try (RawNbdClient client = RawNbdClient.connect(bridge.socketPath())) {
            assertEquals(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES, client.readGreeting());
        }
    }

    @Test
    void goAnswersSizeFlagsAndBlockSizesThenAck() throws IOException {
        try (RawNbdClient client = RawNbdClient.connect(bridge.socketPath())) {
            client.readGreeting();
            client.sendClientFlags(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES);
            client.sendOption(NbdProtocol.OPT_GO, RawNbdClient.infoRequest(NbdProtocol.INFO_BLOCK_SIZE));

            RawNbdClient.OptionReply export = client.readOptionReply();
            assertEquals(NbdProtocol.OPT_GO, export.option());
            assertEquals(NbdProtocol.REP_INFO, export.type());
            ByteBuffer info = export.data();
            assertEquals(NbdProtocol.INFO_EXPORT, info.getShort());
            assertEquals(RestartableTarget.SIZE, info.getLong());
            int flags = info.getShort() & 0xFFFF;
            int wanted = NbdProtocol.TRANSMISSION_HAS_FLAGS | NbdProtocol.TRANSMISSION_SEND_FLUSH
                    | NbdProtocol.TRANSMISSION_SEND_FUA | NbdProtocol.TRANSMISSION_SEND_TRIM
                    | NbdProtocol.TRANSMISSION_SEND_WRITE_ZEROES;
            assertEquals(wanted, flags & wanted, "transmission flags 0x" + Integer.toHexString(flags));

            RawNbdClient.OptionReply blockSizes = client.readOptionReply();
            assertEquals(NbdProtocol.REP_INFO, blockSizes.type());
            ByteBuffer sizes = blockSizes.data();
            assertEquals(NbdProtocol.INFO_BLOCK_SIZE, sizes.getShort());
            assertEquals(RestartableTarget.BLOCK_SIZE, sizes.getInt(), "minimum");
            assertEquals(4096, sizes.getInt(), "preferred");
            assertEquals(RestartableTarget.MAX_TRANSFER, sizes.getInt(), "maximum");

            assertEquals(NbdProtocol.REP_ACK, client.readOptionReply().type());
            // transmission has begun: a request is answered
            assertEquals(0, client.read(7, 0, 4096).error());
        }
    }

    @Test
    void unknownOptionIsUnsupportedAndNegotiationGoesOn() throws IOException {
        try (RawNbdClient client = RawNbdClient.connect(bridge.socketPath())) {
            client.readGreeting();
            client.sendClientFlags(NbdProtocol.FLAG_FIXED_NEWSTYLE);
            client.sendOption(8, new byte[0]); // NBD_OPT_STRUCTURED_REPLY, which this server does not speak
            RawNbdClient.OptionReply unsupported = client.readOptionReply();
            assertEquals(8, unsupported.option());
            assertEquals(NbdProtocol.REP_ERR_UNSUP, unsupported.type());

            client.sendOption(NbdProtocol.OPT_LIST, new byte[0]);
            RawNbdClient.OptionReply server = client.readOptionReply();
            assertEquals(NbdProtocol.REP_SERVER, server.type());
            assertEquals(0, server.data().getInt(), "the export is named \"\"");
            assertEquals(NbdProtocol.REP_ACK, client.readOptionReply().type());
        }
    }

    @Test
    void abortIsAcknowledgedAndClosesTheConnection() throws IOException {
        try (RawNbdClient client = RawNbdClient.connect(bridge.socketPath())) {
            client.readGreeting();
            client.sendClientFlags(NbdProtocol.FLAG_FIXED_NEWSTYLE);
            client.sendOption(NbdProtocol.OPT_ABORT, new byte[0]);
            RawNbdClient.OptionReply ack = client.readOptionReply();
            assertEquals(NbdProtocol.OPT_ABORT, ack.option());
            assertEquals(NbdProtocol.REP_ACK, ack.type());
            assertTrue(client.closedByServer());
        }
    }

    @Test
    void badOptionMagicClosesTheConnection() throws IOException {
        try (RawNbdClient client = RawNbdClient.connect(bridge.socketPath())) {
            client.readGreeting();
            client.sendClientFlags(NbdProtocol.FLAG_FIXED_NEWSTYLE);
            client.sendOption(0x1122334455667788L, NbdProtocol.OPT_GO, RawNbdClient.infoRequest());
            assertTrue(client.closedByServer());
        }
    }

    @Test
    void clientWithoutFixedNewstyleIsRefused() throws IOException {
        try (RawNbdClient client = RawNbdClient.connect(bridge.socketPath())) {
            client.readGreeting();
            client.sendClientFlags(0);
            assertTrue(client.closedByServer());
        }
    }

    @Test
    void exportNameAnswersSizeAndPadsWithoutNoZeroes() throws IOException {
        try (RawNbdClient client = RawNbdClient.connect(bridge.socketPath())) {
            client.readGreeting();
            client.sendClientFlags(NbdProtocol.FLAG_FIXED_NEWSTYLE);
            client.sendOption(NbdProtocol.OPT_EXPORT_NAME, new byte[0]);
            ByteBuffer answer = client.readRaw(10 + NbdProtocol.EXPORT_NAME_PADDING);
            assertEquals(RestartableTarget.SIZE, answer.getLong());
            assertEquals(0, client.read(1, 512, 512).error());
        }
    }
}
