package io.basalt.service.dataplane;

import io.basalt.nvmetcp.nvme.Status;
import io.basalt.service.engine.IoResult;

/**
 * The one place where a storage result becomes an NVMe status, like Linux's
 * {@code blk_to_nvme_status}. Failures the host may retry elsewhere (another path, later) carry no
 * DNR bit; those that will fail the same way again do.
 */
final class NvmeStatuses {
    private NvmeStatuses() {
    }

    static int of(IoResult result) {
        return switch (result) {
            case OK -> Status.SUCCESS;
            case OUT_OF_RANGE -> Status.LBA_OUT_OF_RANGE | Status.DNR;
            // Write Protected (NVMe Base 2.0, generic status 0x20): a snapshot's blocks never change.
            case READ_ONLY -> Status.NAMESPACE_WRITE_PROTECTED | Status.DNR;
            case NO_SPACE -> Status.CAPACITY_EXCEEDED | Status.DNR;
            case MEDIA_ERROR -> Status.UNRECOVERED_READ_ERROR | Status.DNR;
            case GONE -> Status.NAMESPACE_NOT_READY | Status.DNR;
            // The node stopped acknowledging after a drive error: another path (a replica) may still work.
            case FAILED -> Status.WRITE_FAULT;
            // A path error (status type 3h): Linux's multipath reads the ANA log again and sends the I/O
            // on another path, or holds it until a path can take it, instead of failing it to the
            // application as it does a Write Fault after its retries on the same path.
            case FENCED -> Status.ANA_TRANSITION;
        };
    }
}
