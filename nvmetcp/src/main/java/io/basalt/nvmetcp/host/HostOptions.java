package io.basalt.nvmetcp.host;

import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.nvme.Nqn;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.UUID;

/**
 * How a host connects to a controller.
 *
 * @param hostNqn                the host's NQN, which namespace ACLs name
 * @param hostId                 the host identifier sent in every Connect (must be the same on all queues)
 * @param headerDigest           ask for CRC32C header digests
 * @param dataDigest             ask for CRC32C data digests
 * @param ioQueues               I/O queues to create (fewer if the controller grants fewer)
 * @param ioQueueSize            entries per I/O queue (at most {@code ioQueueSize - 1} commands outstanding), capped
 *                               by the controller's CAP.MQES
 * @param keepAliveTimeoutMillis KATO sent in the admin Connect; Keep Alive is sent every half of it; 0 disables it
 * @param connectTimeoutMillis   bound on the whole of {@link HostController#connect}: TCP, initialization, enabling
 *                               the controller and connecting every I/O queue
 * @param sqFlowControlDisabled  ask the controller to disable SQ flow control, which lets it end a read with a
 *                               C2HData PDU carrying the SUCCESS flag instead of a CapsuleResp
 * @param dhchap                 the host's DH-HMAC-CHAP secret (and the controller's, for bidirectional
 *                               authentication), used when a controller requires authentication; null for none
 */
public record HostOptions(String hostNqn, UUID hostId, boolean headerDigest, boolean dataDigest, int ioQueues,
                          int ioQueueSize, int keepAliveTimeoutMillis, int connectTimeoutMillis,
                          boolean sqFlowControlDisabled, DhchapCredentials dhchap) {
    public static final int DEFAULT_QUEUE_SIZE = 128;
    public static final int DEFAULT_KEEP_ALIVE_MILLIS = 5000;
    public static final int DEFAULT_CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final String UUID_NQN_PREFIX = "nqn.2014-08.org.nvmexpress:uuid:";

    public HostOptions {
        Nqn.requireValid(hostNqn);
        Objects.requireNonNull(hostId);
        if (ioQueues < 0 || ioQueues > 0xFFFE) {
            throw new IllegalArgumentException("ioQueues out of range: " + ioQueues);
        }
        if (ioQueueSize < 2 || ioQueueSize > 0x10000) {
            throw new IllegalArgumentException("ioQueueSize out of range: " + ioQueueSize);
        }
        if (keepAliveTimeoutMillis < 0 || connectTimeoutMillis <= 0) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
    }

    /**
     * One I/O queue of {@value #DEFAULT_QUEUE_SIZE} entries, no digests. The host ID is the NQN's UUID for a UUID
     * form NQN, else derived from the NQN, so that it is stable across connects as the specification asks.
     */
    public static HostOptions defaults(String hostNqn) {
        return new HostOptions(hostNqn, hostIdOf(hostNqn), false, false, 1, DEFAULT_QUEUE_SIZE,
                DEFAULT_KEEP_ALIVE_MILLIS, DEFAULT_CONNECT_TIMEOUT_MILLIS, false, null);
    }

    public HostOptions withDigests(boolean header, boolean data) {
        return new HostOptions(hostNqn, hostId, header, data, ioQueues, ioQueueSize, keepAliveTimeoutMillis,
                connectTimeoutMillis, sqFlowControlDisabled, dhchap);
    }

    public HostOptions withIoQueues(int queues, int queueSize) {
        return new HostOptions(hostNqn, hostId, headerDigest, dataDigest, queues, queueSize, keepAliveTimeoutMillis,
                connectTimeoutMillis, sqFlowControlDisabled, dhchap);
    }

    public HostOptions withKeepAliveTimeout(int millis) {
        return new HostOptions(hostNqn, hostId, headerDigest, dataDigest, ioQueues, ioQueueSize, millis,
                connectTimeoutMillis, sqFlowControlDisabled, dhchap);
    }

    public HostOptions withConnectTimeout(int millis) {
        return new HostOptions(hostNqn, hostId, headerDigest, dataDigest, ioQueues, ioQueueSize, keepAliveTimeoutMillis,
                millis, sqFlowControlDisabled, dhchap);
    }

    public HostOptions withSqFlowControlDisabled(boolean disabled) {
        return new HostOptions(hostNqn, hostId, headerDigest, dataDigest, ioQueues, ioQueueSize, keepAliveTimeoutMillis,
                connectTimeoutMillis, disabled, dhchap);
    }

    public HostOptions withDhchap(DhchapCredentials credentials) {
        return new HostOptions(hostNqn, hostId, headerDigest, dataDigest, ioQueues, ioQueueSize, keepAliveTimeoutMillis,
                connectTimeoutMillis, sqFlowControlDisabled, credentials);
    }

    static UUID hostIdOf(String hostNqn) {
        if (hostNqn.startsWith(UUID_NQN_PREFIX)) {
            return UUID.fromString(hostNqn.substring(UUID_NQN_PREFIX.length()));
        }
        return UUID.nameUUIDFromBytes(hostNqn.getBytes(StandardCharsets.UTF_8));
    }
}
