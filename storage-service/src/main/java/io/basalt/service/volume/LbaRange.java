package io.basalt.service.volume;

import io.basalt.nvmetcp.nvme.Status;
import io.basalt.nvmetcp.nvmet.IoCallback;

/** The range check every device makes before touching its storage. */
final class LbaRange {
    private LbaRange() {
    }

    /** True if the range lies within the device; otherwise completes the command as LBA Out of Range. */
    static boolean admit(long lba, int blocks, long blockCount, IoCallback callback) {
        if (lba < 0 || blocks < 0 || lba > blockCount - blocks) {
            callback.complete(Status.LBA_OUT_OF_RANGE);
            return false;
        }
        return true;
    }
}
