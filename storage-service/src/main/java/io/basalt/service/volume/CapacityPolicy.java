package io.basalt.service.volume;

import io.basalt.bridge.InsufficientCapacityException;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.service.engine.Engine;

/** Which sizes a volume may have, and how much the node may provision (thin provisioning). */
final class CapacityPolicy {
    private final Engine engine;

    CapacityPolicy(Engine engine) {
        this.engine = engine;
    }

    static void checkSize(long size, int blockSize, long minimum) {
        if (size <= 0) {
            throw new InvalidVolumeRequestException("sizeBytes", "sizeBytes must be positive");
        }
        if (size % blockSize != 0) {
            throw new InvalidVolumeRequestException("sizeBytes",
                    "sizeBytes must be a multiple of the volume's block size, " + blockSize + " bytes");
        }
        if (size < minimum) {
            throw new InvalidVolumeRequestException("sizeBytes", "sizeBytes " + size
                    + " is smaller than the source's " + minimum + " bytes");
        }
    }

    /** Thin provisioning allows provisioning up to capacity times the over-subscription ratio. */
    void checkProvisioning(long provisioned, long additionalBytes) {
        double limit = engine.capacityBytes() * engine.maxOversubscription();
        if (provisioned + additionalBytes > limit) {
            throw new InsufficientCapacityException("provisioning " + additionalBytes + " more bytes would make "
                    + (provisioned + additionalBytes) + ", over this node's limit of " + (long) limit + " bytes ("
                    + engine.capacityBytes() + " bytes of capacity x over-subscription ratio "
                    + engine.maxOversubscription() + ")");
        }
    }
}
