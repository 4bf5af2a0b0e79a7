package io.basalt.nvmetcp.host;

import io.basalt.nvmetcp.nvme.Status;

/** A command completed with an error status. */
public final class NvmeStatusException extends RuntimeException {
    private final int status;
    private final long result;

    public NvmeStatusException(String command, int status, long result) {
        super(command + " failed: " + Status.describe(status), null, false, false);
        this.status = status;
        this.result = result;
    }

    /** The status, with the Do Not Retry bit (see {@link Status}). */
    public int status() {
        return status;
    }

    /** Status code type and code without the DNR and More bits. */
    public int statusCode() {
        return status & 0x7FF;
    }

    public boolean doNotRetry() {
        return (status & Status.DNR) != 0;
    }

    /** Completion dwords 0-1: for a refused Connect, which field was wrong. */
    public long result() {
        return result;
    }
}
