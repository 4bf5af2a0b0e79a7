package io.basalt.bridge.http;

import java.math.BigInteger;
import java.util.List;

/**
 * Request bodies as they arrive, before validation: every field nullable so that a missing field
 * can be told apart from a zero, sizes as BigInteger so that a huge number is reported as too
 * large rather than as not a number.
 */
final class RequestBodies {
    private RequestBodies() {
    }

    record CreateVolume(String name, BigInteger sizeBytes, List<String> hosts, Boolean compression,
                        Integer replicas, String sourceSnapshotId, String sourceVolumeId,
                        Boolean requireAuthentication, Qos qos) {
    }

    /** A volume's limits, as {@code qos} in a create or the body of a QoS change; a missing field is 0. */
    record Qos(BigInteger totalIops, BigInteger readIops, BigInteger writeIops, BigInteger totalBytesPerSec,
               BigInteger readBytesPerSec, BigInteger writeBytesPerSec, BigInteger burstSeconds) {
    }

    record ExtendVolume(BigInteger sizeBytes) {
    }

    record UpdateVolume(String name, Boolean compression) {
    }

    record SetHosts(List<String> hosts) {
    }

    record AddHost(String hostNqn) {
    }

    record SetHostSecrets(String hostSecret, String controllerSecret) {
    }

    record RevertVolume(String snapshotId) {
    }

    record CreateSnapshot(String name, String sourceVolumeId) {
    }

    record CreateSnapshotGroup(String name, List<String> volumeIds) {
    }
}
